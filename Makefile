# One entry point for common tasks. `make up` runs the whole system; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MEMBERS := contracts gateway ingestor status-service
STAMP := $(VENV)/.installed

.PHONY: install servers browser up down status test unit bench asyncapi clean

$(STAMP): pyproject.toml $(foreach m,$(MEMBERS),$(m)/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(foreach m,$(MEMBERS),-e ./$(m)) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

servers: install          ## install (first time) and start RabbitMQ, MinIO and Neo4j on loopback
	$(BIN)/python deploy/native/servers.py start

up: servers               ## the whole system: servers and the three services, in the background
	$(BIN)/python deploy/native/services.py start

down: install             ## stop the services and the servers
	$(BIN)/python deploy/native/services.py stop
	$(BIN)/python deploy/native/servers.py stop

status: install
	$(BIN)/python deploy/native/servers.py status; $(BIN)/python deploy/native/services.py status

browser:                  ## Debian's Chromium for the upload page's browser test
	command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

test: servers browser     ## every test, against the real servers
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: install             ## the fast tests that need no server
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

bench: servers            ## the end-to-end benchmark (see docs/performance.md)
	$(BIN)/python bench/end_to_end.py $(BENCH_ARGS)

asyncapi: install         ## regenerate docs/asyncapi.json from the FastStream apps
	$(BIN)/python docs/asyncapi.py

clean:
	rm -rf $(VENV)

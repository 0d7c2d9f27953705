# One entry point for common tasks. `make up` runs the whole system; `make test` runs every check and test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
MEMBERS := contracts contracts/platform gateway gateway/cli ingestor status-service
STAMP := $(VENV)/.installed
# Tests and benchmarks run against servers of their own (deploy/native/isolated.py), never the running system's.
ISOLATED := $(BIN)/python -m deploy.native.isolated

.PHONY: install servers browser up down status check test unit bench asyncapi lock clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q uv==$(UV_VERSION)

# Exactly what uv.lock pins, every member editable; `make lock` changes the pins.
$(STAMP): $(UV) uv.lock pyproject.toml $(foreach m,$(MEMBERS),$(m)/pyproject.toml)
	$(UV) sync --frozen --all-packages --extra dev --python $(PYTHON)
	touch $(STAMP)

install: $(STAMP)

lock: $(UV)
	$(UV) lock

servers: install          ## install (first time) and start RabbitMQ, MinIO and Neo4j on loopback
	$(BIN)/python -m deploy.native.servers start

up: servers               ## the whole system: servers and the three services, in the background
	$(BIN)/python -m deploy.native.services start

down: install             ## stop the services and the servers, and the tests' own servers
	$(BIN)/python -m deploy.native.services stop
	$(BIN)/python -m deploy.native.servers stop
	$(ISOLATED) --stop

status: install
	$(BIN)/python -m deploy.native.servers status; $(BIN)/python -m deploy.native.services status

browser:                  ## Debian's Chromium for the upload page's browser test
	command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

check: install            ## the linter and the type checker
	$(BIN)/ruff check .
	$(BIN)/mypy

test: check browser       ## every check and test, against servers of the tests' own
	$(ISOLATED) $(BIN)/python -m pytest $(PYTEST_ARGS)

unit: install             ## the fast tests that need no server
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

# BENCH names another script of bench/: large_pdfs, soak, peer, ingest, upload, status_load ...
BENCH ?= end_to_end
bench: install            ## the end-to-end benchmark, or bench/$(BENCH).py (see docs/performance.md), on the isolated servers
	$(ISOLATED) $(BIN)/python bench/$(BENCH).py $(BENCH_ARGS)

asyncapi: install         ## regenerate docs/asyncapi.json from the FastStream apps
	$(BIN)/python docs/asyncapi.py

clean:
	rm -rf $(VENV) $(TOOLS)

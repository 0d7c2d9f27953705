"""docs/metrics.md and docs/graph-schema.md are generated from the code; they must match it today."""

import importlib.util

import pytest

from tests.conftest import ROOT


def generator():
    spec = importlib.util.spec_from_file_location("reference_doc_generator", ROOT / "docs" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", ["metrics.md", "graph-schema.md"])
def test_the_committed_reference_page_is_current(page):
    committed = (ROOT / "docs" / page).read_text()
    assert committed == generator().pages()[page], f"run `.venv/bin/python docs/reference.py` and commit docs/{page}"


def test_every_declared_metric_has_a_row():
    from docintake.gateway.entrypoints import metrics as gateway
    from docintake.ingestor.entrypoints import metrics as ingestor
    from docintake.status.entrypoints import metrics as status

    page = (ROOT / "docs" / "metrics.md").read_text()
    declared = [value for module in (gateway, ingestor, status) for value in vars(module).values()
                if hasattr(value, "_name") and hasattr(value, "_documentation")]
    assert declared
    for collector in declared:
        name = collector._name + ("_total" if collector._type == "counter" else "")
        assert f"| `{name}` |" in page, name


def test_every_schema_statement_has_a_row():
    from docintake.ingestor.adapters.knowledge_graph import SCHEMA as knowledge_graph
    from docintake.status.adapters.neo4j_progress_repository import SCHEMA as progress_records
    from docintake.status.adapters.neo4j_webhook_deliveries import SCHEMA as webhook_deliveries

    page = (ROOT / "docs" / "graph-schema.md").read_text()
    for statement in knowledge_graph + progress_records + webhook_deliveries:
        name = statement.split()[3 if statement.startswith("CREATE FULLTEXT") else 2]
        assert f"| `{name}` |" in page, statement

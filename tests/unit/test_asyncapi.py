"""docs/asyncapi.json is the generated contract; it must match what the apps declare today."""

import importlib.util
import json

from tests.conftest import ROOT


def generator():
    spec = importlib.util.spec_from_file_location("asyncapi_generator", ROOT / "docs" / "asyncapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_asyncapi_document_is_current():
    committed = json.loads((ROOT / "docs" / "asyncapi.json").read_text())
    assert committed == generator().specification(), "run `make asyncapi` and commit docs/asyncapi.json"


def test_every_event_has_a_channel_and_a_schema():
    channels = json.loads((ROOT / "docs" / "asyncapi.json").read_text())["channels"]
    for routing_key in ("batch.created", "document.queued", "document.ingested", "document.failed",
                        "batch.completed", "batch.cancelled"):
        assert any(channel.endswith(f":{routing_key}:publish") for channel in channels), routing_key

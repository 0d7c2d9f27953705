"""docs/settings.md is generated from the settings classes; it must match what they declare today."""

import importlib.util

from tests.conftest import ROOT


def generator():
    spec = importlib.util.spec_from_file_location("settings_doc_generator", ROOT / "docs" / "settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_settings_page_is_current():
    committed = (ROOT / "docs" / "settings.md").read_text()
    assert committed == generator().document(), "run `.venv/bin/python docs/settings.py` and commit docs/settings.md"


def test_every_declared_field_has_a_row():
    page = (ROOT / "docs" / "settings.md").read_text()
    module = generator()
    for cls, _ in module.READERS:
        for name in cls.model_fields:
            assert f"| `DOCINTAKE_{name.upper()}` |" in page, name

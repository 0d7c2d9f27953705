"""A subscriber installs docintake-contracts into an empty environment and reads events with it."""

import json
import subprocess
import sys
from pathlib import Path

from docintake.contracts.events import BatchCancelled

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "bin" / "uv"  # made by `make install`
PYDANTIC_AND_ITS_OWN = {"docintake-contracts", "pydantic", "pydantic-core", "annotated-types", "typing-extensions",
                        "typing-inspection"}


def test_the_contract_installs_alone_with_pydantic_and_parses_an_event(tmp_path):
    venv = tmp_path / "subscriber"
    subprocess.run([str(UV), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([str(UV), "pip", "install", "-q", "--python", python, str(ROOT / "contracts")], check=True)

    listed = subprocess.run([str(UV), "pip", "list", "--python", python, "--format", "json"],
                            check=True, capture_output=True, text=True).stdout
    assert {package["name"] for package in json.loads(listed)} <= PYDANTIC_AND_ITS_OWN

    event = BatchCancelled(batch_id="5d8a3b8e-4a4e-4d87-9a55-1a0a1b6f3c11")
    parsed = subprocess.run(
        [python, "-c", "import sys; from docintake.contracts.events import parse_event; "
                       "print(type(parse_event(sys.stdin.read())).__name__)"],
        input=event.to_json().decode(), check=True, capture_output=True, text=True,
    )
    assert parsed.stdout.strip() == "BatchCancelled"

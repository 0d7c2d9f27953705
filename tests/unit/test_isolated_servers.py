"""Two runs on the isolated servers at once would share the services' ports and queues: the second waits."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys
from pathlib import Path
from deploy.native.isolated import exclusive_use
exclusive_use(Path(sys.argv[1]))
print("held", flush=True)
sys.stdin.readline()
"""


def holder(state_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", HOLD, str(state_dir)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_second_run_waits_until_the_first_has_ended(tmp_path):
    first = holder(tmp_path)
    assert first.stdout.readline() == "held\n"
    second = holder(tmp_path)
    second.stdin.close()  # once it holds the lock, it ends at once
    assert "another run uses the isolated servers; waiting" in second.stderr.readline()
    assert second.poll() is None
    first.communicate("\n", timeout=10)  # the first run ends
    assert second.stdout.readline() == "held\n"
    second.wait(timeout=10)
    assert (first.returncode, second.returncode) == (0, 0)

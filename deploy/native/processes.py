"""The one way docintake's scripts and tests run a background process: in a session of its own,
its output in a log file, its pid in a file, stopped with SIGTERM and, past a timeout, SIGKILL."""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def spawn(command: list[str], log_file: Path, env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        return subprocess.Popen(
            command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )


def pid_alive(pid_file: Path) -> int | None:
    """The pid the file names, if that process still runs."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def stop(pid: int, still_running: Callable[[], bool], timeout: float, *, group: bool = True) -> None:
    """SIGTERM to `pid` (with `group`, to its whole process group), wait while `still_running()`, then SIGKILL.

    A service is sent the signal alone, so that it stops its own children in order."""
    kill = os.killpg if group else os.kill
    try:
        kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and still_running():
            time.sleep(0.1)
        if still_running():
            kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it ended by itself meanwhile


def stop_pid(pid_file: Path, timeout: float = 60) -> None:
    pid = pid_alive(pid_file)
    if pid is not None:
        stop(pid, lambda: pid_alive(pid_file) is not None, timeout)
    pid_file.unlink(missing_ok=True)

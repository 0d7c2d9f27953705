"""The servers tests and benchmarks run against: instances of their own, on ports and in a state
folder of their own, so that they never touch a running system's queues, buckets or graph.

    python -m deploy.native.isolated COMMAND...   start the isolated servers, then run COMMAND with their settings
    python -m deploy.native.isolated --stop       stop them
"""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from deploy.native.settings import DeploySettings

# Runs side by side on the isolated servers each get a namespace of their own: a vhost and a bucket.
NAMESPACE = os.environ.get("DOCINTAKE_ISOLATED_NAMESPACE", "")
# Whole second sets of isolated servers (say, a clean clone checked beside a working copy) take
# every port this much higher, and a state folder of their own.
OFFSET = int(os.environ.get("DOCINTAKE_ISOLATED_PORT_OFFSET", "0"))


def _port(port: int) -> str:
    return str(port + OFFSET)


ISOLATED = {
    "DOCINTAKE_RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{_port(5673)}/{NAMESPACE}",
    "DOCINTAKE_MINIO_BUCKET": f"docintake-uploads{'-' + NAMESPACE if NAMESPACE else ''}",
    "DOCINTAKE_RABBITMQ_MANAGEMENT_PORT": _port(15673),
    "DOCINTAKE_MINIO_ENDPOINT": f"127.0.0.1:{_port(9010)}",
    "DOCINTAKE_MINIO_CONSOLE_PORT": _port(9011),
    "DOCINTAKE_NEO4J_URI": f"bolt://127.0.0.1:{_port(7688)}",
    "DOCINTAKE_NEO4J_HTTP_PORT": _port(7475),
    "DOCINTAKE_STATE_DIR": str(DeploySettings().state_dir.with_name(
        "docintake-isolated" + (f"-{OFFSET}" if OFFSET else ""))),
    "DOCINTAKE_GATEWAY_PORT": _port(8100),
    "DOCINTAKE_INGESTOR_METRICS_PORT": _port(8101),
    "DOCINTAKE_STATUS_PORT": _port(8102),
    "DOCINTAKE_STATUS_URL": f"http://127.0.0.1:{_port(8102)}",
}


def use_isolated_servers() -> None:
    """Point this process, and every process it starts, at the isolated servers."""
    os.environ.update(ISOLATED)


def servers(*arguments: str) -> None:
    """Run deploy.native.servers on the isolated servers, e.g. servers("stop", "rabbitmq")."""
    subprocess.run([sys.executable, "-m", "deploy.native.servers", *arguments], env={**os.environ, **ISOLATED},
                   check=True)


def exclusive_use(state_dir: Path) -> int:
    """A lock on the isolated servers held while a command runs on them: two runs at once would share
    the services' ports and queues and see each other's events, so a second one waits its turn."""
    state_dir.mkdir(parents=True, exist_ok=True)
    lock = os.open(state_dir / "run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("[isolated] another run uses the isolated servers; waiting (a second set: "
              "DOCINTAKE_ISOLATED_PORT_OFFSET)", file=sys.stderr, flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    return lock  # kept open, so held, until the process ends


def main(argv: list[str]) -> int:
    if argv == ["--stop"]:
        servers("stop")
        return 0
    if argv:
        exclusive_use(Path(ISOLATED["DOCINTAKE_STATE_DIR"]))  # released when this process ends
    servers("start")
    if not argv:
        return 0
    use_isolated_servers()
    return subprocess.run(argv).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

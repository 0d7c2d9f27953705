"""Start, stop and report the three docintake services as background processes.

    python -m deploy.native.services start [--ingestors N]
    python -m deploy.native.services stop
    python -m deploy.native.services status

Each service runs its own console script with the DOCINTAKE_* environment; logs and pid
files go under DOCINTAKE_STATE_DIR/services. The tests use the same code to run the system.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deploy.native import processes
from deploy.native.settings import DeploySettings

BIN = Path(sys.executable).parent
READY_TIMEOUT_SECONDS = 60


def http_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def logged_ready(log_file: Path, since: int) -> bool:
    """The service wrote its JSON `ready` line after byte `since` of its log."""
    try:
        with log_file.open("rb") as log:
            log.seek(since)
            return any(json.loads(line).get("message") == "ready" for line in log if line.startswith(b"{"))
    except (OSError, ValueError):
        return False


@dataclass
class ServiceProcess:
    name: str
    script: str
    run_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    ready_url: str | None = None
    _process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        if self._process is not None:  # started here: poll() also reaps it once it has ended
            return self._process.pid if self._process.poll() is None else None
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def ready(self, since: int = 0) -> bool:
        if self.pid() is None:
            return False
        return http_ready(self.ready_url) if self.ready_url else logged_ready(self.log_file, since)

    def start(self, wait: bool = True) -> None:
        if self.pid() is not None:  # started before: ready only once it answers
            if wait:
                self.wait_ready()
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        since = self.log_file.stat().st_size if self.log_file.exists() else 0
        self._process = processes.spawn([str(BIN / self.script)], self.log_file, {**os.environ, **self.env})
        self.pid_file.write_text(str(self._process.pid))
        if wait:
            self.wait_ready(since)

    def wait_ready(self, since: int = 0) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.ready(since):
                return
            if self.pid() is None:
                raise RuntimeError(f"{self.name} exited while starting; see {self.log_file}")
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready within {READY_TIMEOUT_SECONDS}s; see {self.log_file}")

    def signal(self, signum: int) -> None:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signum)

    def wait(self, timeout: float = 30) -> int | None:
        """The exit code of the process this object started, once it ended (None if it started none)."""
        if self._process is None:
            return None
        code = self._process.wait(timeout)
        self.pid_file.unlink(missing_ok=True)
        return code

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, wait, SIGKILL if need be; returns the exit code when this object started the process."""
        pid = self.pid()
        if pid is None:
            return None
        processes.stop(pid, lambda: self.pid() is not None, timeout, group=False)
        self.pid_file.unlink(missing_ok=True)
        if self._process is not None:
            return self._process.wait()
        return None


def system(
    settings: DeploySettings, ingestors: int = 1, env: dict[str, str] | None = None, run_dir: Path | None = None
) -> list[ServiceProcess]:
    """The three services as this machine runs them, in start order."""
    run_dir = run_dir or settings.state_dir / "services"
    env = env or {}
    def port(name: str, default: int) -> int:
        return int(env.get(name, os.environ.get(name, default)))

    status_port, gateway_port = port("DOCINTAKE_STATUS_PORT", 8002), port("DOCINTAKE_GATEWAY_PORT", 8000)
    # each ingestor serves its probes and metrics on a port of its own: the configured one, then 10 more
    # each (8001, 8011 ...); with port 0 it serves none, and its `ready` log line tells it has started
    first_ingestor_port = port("DOCINTAKE_INGESTOR_METRICS_PORT", 8001)
    ingestor_ports = [first_ingestor_port + 10 * n if first_ingestor_port else 0 for n in range(ingestors)]
    env = {"DOCINTAKE_STATUS_URL": f"http://127.0.0.1:{status_port}", **env}
    return [
        ServiceProcess("status", "docintake-status", run_dir, env, f"http://127.0.0.1:{status_port}/readyz"),
        *(
            ServiceProcess(f"ingestor-{n}", "docintake-ingestor", run_dir,
                           {**env, "DOCINTAKE_INGESTOR_METRICS_PORT": str(ingestor_port)},
                           f"http://127.0.0.1:{ingestor_port}/readyz" if ingestor_port else None)
            for n, ingestor_port in enumerate(ingestor_ports, start=1)
        ),
        ServiceProcess("gateway", "docintake-gateway", run_dir, env, f"http://127.0.0.1:{gateway_port}/readyz"),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--ingestors", type=int, default=int(os.environ.get("DOCINTAKE_INGESTORS", 1)))
    args = parser.parse_args(argv)
    services = system(DeploySettings(), args.ingestors)
    if args.command == "start":
        for service in services:
            service.start()
            print(f"{service.name}: ready (log {service.log_file})", file=sys.stderr)
        gateway_port = os.environ.get("DOCINTAKE_GATEWAY_PORT", "8000")
        print(f"docintake is up: API at http://127.0.0.1:{gateway_port} (OpenAPI page /docs)")
    elif args.command == "stop":
        for service in reversed(services):
            service.stop()
        # ingestors started with a larger --ingestors than this call names
        for pid_file in (DeploySettings().state_dir / "services").glob("ingestor-*.pid"):
            ServiceProcess(pid_file.stem, "", pid_file.parent).stop()
    else:
        states = {service.name: service.ready() for service in services}
        for name, ready in states.items():
            print(f"{name}: {'ready' if ready else 'down'}")
        return 0 if all(states.values()) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

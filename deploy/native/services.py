"""Start, stop and report the three docintake services as background processes.

    python -m deploy.native.services start [--ingestors N] [--gateways N] [--status-services N]
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
            try:
                self.wait_ready(since)
            except RuntimeError:
                self.stop()  # a service that never got ready must not go on consuming
                raise

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
    settings: DeploySettings, ingestors: int = 1, env: dict[str, str] | None = None, run_dir: Path | None = None,
    gateways: int = 1, status_services: int = 1,
) -> list[ServiceProcess]:
    """The services as this machine runs them, in start order: the status services, the ingestors, the gateways.

    Several of a kind each listen on a port of their own: the configured one, then 10 more each
    (gateways 8000, 8010 ...; ingestors 8001, 8011 ...; status services 8002, 8012 ...); they are
    named with their number (status-1, status-2), one alone by its kind (status). Gateway n asks
    status service n (round the list again when there are more gateways), unless
    DOCINTAKE_STATUS_URL is given.
    """
    run_dir = run_dir or settings.state_dir / "services"
    env = env or {}

    def ports(name: str, default: int, count: int) -> list[int]:
        first = int(env.get(name, os.environ.get(name, default)))
        return [first + 10 * n if first else 0 for n in range(count)]

    def named(kind: str, n: int, count: int) -> str:
        return kind if count == 1 and kind != "ingestor" else f"{kind}-{n}"

    status_ports = ports("DOCINTAKE_STATUS_PORT", 8002, status_services)
    gateway_ports = ports("DOCINTAKE_GATEWAY_PORT", 8000, gateways)
    # with ingestor port 0 an ingestor serves no probes, and its `ready` log line tells it has started
    ingestor_ports = ports("DOCINTAKE_INGESTOR_METRICS_PORT", 8001, ingestors)
    status_urls = [env.get("DOCINTAKE_STATUS_URL") or f"http://127.0.0.1:{status_port}" for status_port in status_ports]
    env = {"DOCINTAKE_STATUS_URL": status_urls[0], **env}
    return [
        *(
            ServiceProcess(named("status", n, status_services), "docintake-status", run_dir,
                           {**env, "DOCINTAKE_STATUS_PORT": str(status_port)},
                           f"http://127.0.0.1:{status_port}/readyz")
            for n, status_port in enumerate(status_ports, start=1)
        ),
        *(
            ServiceProcess(named("ingestor", n, ingestors), "docintake-ingestor", run_dir,
                           {**env, "DOCINTAKE_INGESTOR_METRICS_PORT": str(ingestor_port)},
                           f"http://127.0.0.1:{ingestor_port}/readyz" if ingestor_port else None)
            for n, ingestor_port in enumerate(ingestor_ports, start=1)
        ),
        *(
            ServiceProcess(named("gateway", n, gateways), "docintake-gateway", run_dir,
                           {**env, "DOCINTAKE_GATEWAY_PORT": str(gateway_port),
                            "DOCINTAKE_STATUS_URL": status_urls[(n - 1) % status_services]},
                           f"http://127.0.0.1:{gateway_port}/readyz")
            for n, gateway_port in enumerate(gateway_ports, start=1)
        ),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--ingestors", type=int, default=int(os.environ.get("DOCINTAKE_INGESTORS", 1)))
    parser.add_argument("--gateways", type=int, default=int(os.environ.get("DOCINTAKE_GATEWAYS", 1)))
    parser.add_argument("--status-services", type=int, default=int(os.environ.get("DOCINTAKE_STATUS_SERVICES", 1)))
    args = parser.parse_args(argv)
    services = system(DeploySettings(), args.ingestors, gateways=args.gateways, status_services=args.status_services)
    if args.command == "start":
        for service in services:
            service.start()
            print(f"{service.name}: ready (log {service.log_file})", file=sys.stderr)
        apis = [f"http://127.0.0.1:{s.env['DOCINTAKE_GATEWAY_PORT']}" for s in services if s.name.startswith("gateway")]
        print(f"docintake is up: API at {' and '.join(apis)} (OpenAPI page /docs)")
    elif args.command == "stop":
        for service in reversed(services):
            service.stop()
        # services started with more of a kind than this call names
        for kind in ("gateway", "ingestor", "status"):
            for pid_file in (DeploySettings().state_dir / "services").glob(f"{kind}-*.pid"):
                ServiceProcess(pid_file.stem, "", pid_file.parent).stop()
    else:
        states = {service.name: service.ready() for service in services}
        for name, ready in states.items():
            print(f"{name}: {'ready' if ready else 'down'}")
        return 0 if all(states.values()) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Install, start, stop and report the real servers natively on loopback: RabbitMQ, MinIO, Neo4j.

    python -m deploy.native.servers start [rabbitmq|minio|neo4j ...]
    python -m deploy.native.servers stop [NAME ...]
    python -m deploy.native.servers status

Everything comes from the DOCINTAKE_* settings the services read. On a fresh machine it
installs what is missing: RabbitMQ from Debian's packages, Neo4j 5.26 Community from
Maven Central jars, MinIO with `go install`, and (on `start`) the ingestor's OCR, Debian's
tesseract with the languages of DOCINTAKE_OCR_LANGUAGES. Downloads and builds are cached under
DOCINTAKE_CACHE_DIR, data lives under DOCINTAKE_STATE_DIR. Starting twice is harmless.
"""

import base64
import fcntl
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from deploy.native.processes import pid_alive, spawn, stop_pid
from deploy.native.settings import DeploySettings

NEO4J_VERSION = "5.26.30"
MINIO_MODULE = "github.com/minio/minio"
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
HELM_MODULE = "helm.sh/helm/v4"
HELM_VERSION = "v4.3.2"
RABBITMQ_SBIN = Path("/usr/lib/rabbitmq/bin")
READY_TIMEOUT_SECONDS = 120


def log(message: str) -> None:
    print(f"[servers] {message}", file=sys.stderr, flush=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(what: str, check, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise SystemExit(f"{what} did not become ready within {timeout:.0f}s")


def http_ok(url: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> bool:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def run(*command: str, env: dict[str, str] | None = None, quiet: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, env=env, check=True, text=True, capture_output=quiet, stdin=subprocess.DEVNULL
    )


def go_tool_path(settings: DeploySettings, name: str, version: str) -> Path:
    """Where a Go tool built by go_install is cached: outside the repository, one file per version."""
    return settings.cache_dir / "bin" / f"{name}-{version}"


def go_install(settings: DeploySettings, module: str, version: str, name: str, package: str = "") -> Path:
    """Build module's command `name` (at module/package, default the module root) with `go install`
    from the Go module proxy once, and cache it under DOCINTAKE_CACHE_DIR/bin; return its path. Two
    starts at once (two sets of isolated servers) build it once: the second waits for the first."""
    binary = go_tool_path(settings, name, version)
    binary.parent.mkdir(parents=True, exist_ok=True)
    with open(binary.with_name(f".{binary.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.exists():
            return binary
        log(f"building {name} {version} with go install (a cold build takes minutes)")
        with tempfile.TemporaryDirectory(dir=settings.cache_dir) as gobin:
            target = f"{module}/{package}" if package else module
            run("go", "install", f"{target}@{version}", env={**os.environ, "GOBIN": gobin})
            os.replace(Path(gobin) / name, binary)
    return binary


def install_helm(settings: DeploySettings | None = None) -> Path:
    """Helm v4, for the chart checks (tests/deploy): built once, cached like MinIO."""
    return go_install(settings or DeploySettings(), HELM_MODULE, HELM_VERSION, "helm", "cmd/helm")


def apt_install(*packages: str) -> None:
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run("apt-get", "update", "-q", env=apt_env)
    run("apt-get", "install", "-y", "-q", *packages, env=apt_env)


def install_tesseract() -> None:
    """Debian's tesseract and a tesseract-ocr-<code> package per language the ingestor is set to OCR
    (DOCINTAKE_OCR_LANGUAGES, default eng): what the ingestor runs for scans and images."""
    from docintake.ingestor.adapters.parsers.ocr import OcrOptions, debian_package, missing_languages
    from docintake.ingestor.settings import IngestorSettings

    options: OcrOptions = IngestorSettings().ocr
    missing = missing_languages(options)
    if missing == []:
        return
    packages = ["tesseract-ocr"] if missing is None else []
    packages += [debian_package(code) for code in (options.codes if missing is None else missing)]
    log(f"installing {' '.join(packages)} from Debian's packages (the ingestor's OCR)")
    try:
        apt_install(*packages)
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        detail = error.stderr.strip().splitlines()[-1:] if isinstance(error, subprocess.CalledProcessError) else [error]
        raise SystemExit(f"could not install {' '.join(packages)} with apt-get (as root): {detail}") from error


@dataclass
class Server:
    settings: DeploySettings

    name = "server"

    @property
    def data_dir(self) -> Path:
        return self.settings.state_dir / self.name

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def install(self) -> None: ...

    def up(self) -> bool: ...

    def launch(self) -> None: ...

    def stop(self) -> None:
        stop_pid(self.pid_file)

    def start(self) -> None:
        if self.up():
            log(f"{self.name} already up")
        else:
            started = time.monotonic()
            self.install()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.launch()
            wait_until(self.name, self.up)
            log(f"{self.name} ready in {time.monotonic() - started:.1f}s")
        self.provide()

    def provide(self) -> None:
        """Make what the settings name inside the running server exist (a RabbitMQ vhost)."""


class RabbitMQ(Server):
    name = "rabbitmq"

    @property
    def url(self):
        return urlparse(self.settings.rabbitmq_url)

    @property
    def env(self) -> dict[str, str]:
        port = self.url.port or 5672
        return {
            **os.environ,
            "HOME": str(self.data_dir),
            "RABBITMQ_NODENAME": f"docintake{port}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": self.url.hostname or "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(port),
            "RABBITMQ_DIST_PORT": str(port + 20000),
            "RABBITMQ_BASE": str(self.data_dir),
            "RABBITMQ_MNESIA_BASE": str(self.data_dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.data_dir / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.data_dir / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.data_dir / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
        }

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return run(str(RABBITMQ_SBIN / "rabbitmqctl"), *args, env=self.env)

    def install(self) -> None:
        if (RABBITMQ_SBIN / "rabbitmq-server").exists():
            return
        log("installing rabbitmq-server from Debian's packages")
        apt_install("rabbitmq-server")

    def up(self) -> bool:
        if not port_open(self.url.hostname or "127.0.0.1", self.url.port or 5672):
            return False
        try:
            self.ctl("await_startup", "--timeout", "5")
            return True
        except (subprocess.CalledProcessError, FileNotFoundError):
            return False

    def launch(self) -> None:
        (self.data_dir / "enabled_plugins").write_text("[].\n")
        (self.data_dir / "rabbitmq.conf").write_text("loopback_users = none\n")
        spawn([str(RABBITMQ_SBIN / "rabbitmq-server")], self.log_file, self.env, self.data_dir)
        self.ctl("wait", "--timeout", str(READY_TIMEOUT_SECONDS), str(self.pid_file))

    def provide(self) -> None:
        user, password = self.url.username or "guest", self.url.password or "guest"
        vhost = unquote(self.url.path[1:]) or "/"
        if user != "guest":
            try:
                self.ctl("add_user", user, password)
            except subprocess.CalledProcessError:
                pass  # exists already
        if vhost != "/" and vhost not in self.ctl("list_vhosts", "--quiet", "name").stdout.split():
            self.ctl("add_vhost", vhost)
        self.ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")

    def stop(self) -> None:
        if pid_alive(self.pid_file):
            try:
                self.ctl("stop")
            except subprocess.CalledProcessError:
                pass
        stop_pid(self.pid_file)


class MinIO(Server):
    name = "minio"

    @property
    def binary(self) -> Path:
        return go_tool_path(self.settings, "minio", MINIO_VERSION)

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.settings.minio_endpoint.rpartition(":")
        return host, int(port)

    def install(self) -> None:
        go_install(self.settings, MINIO_MODULE, MINIO_VERSION, "minio")

    def up(self) -> bool:
        host, port = self.host_port
        return http_ok(f"http://{host}:{port}/minio/health/cluster")

    def launch(self) -> None:
        host, port = self.host_port
        env = {
            **os.environ,
            "MINIO_ROOT_USER": self.settings.minio_access_key,
            "MINIO_ROOT_PASSWORD": self.settings.minio_secret_key,
            "MINIO_BROWSER": "off",
            "MINIO_UPDATE": "off",
        }
        command = [
            str(self.binary), "server", str(self.data_dir / "data"),
            "--address", f"{host}:{port}",
            "--console-address", f"{host}:{self.settings.minio_console_port}",
        ]
        self.pid_file.write_text(str(spawn(command, self.log_file, env, self.data_dir).pid))


class Neo4j(Server):
    name = "neo4j"

    @property
    def lib_dir(self) -> Path:
        return self.settings.cache_dir / f"neo4j-{NEO4J_VERSION}" / "lib"

    @property
    def bolt(self):
        return urlparse(self.settings.neo4j_uri)

    def install(self) -> None:
        if (self.lib_dir / f"neo4j-{NEO4J_VERSION}.jar").exists():
            return
        log(f"assembling Neo4j {NEO4J_VERSION} Community from Maven Central jars")
        build = self.lib_dir.parent / "pom"
        build.mkdir(parents=True, exist_ok=True)
        (build / "pom.xml").write_text(
            f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>docintake</groupId><artifactId>neo4j-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.neo4j</groupId><artifactId>neo4j</artifactId><version>{NEO4J_VERSION}</version></dependency>
  </dependencies>
</project>
"""
        )
        subprocess.run(
            ["mvn", "-q", "-B", "dependency:copy-dependencies", f"-DoutputDirectory={self.lib_dir}"],
            cwd=build, check=True, stdin=subprocess.DEVNULL,
        )

    def java_command(self, main: str, *args: str) -> list[str]:
        return ["java", "-cp", f"{self.lib_dir}/*", main, *args]

    def write_config(self) -> Path:
        conf = self.data_dir / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        host, port = self.bolt.hostname or "127.0.0.1", self.bolt.port or 7687
        http_port = self.settings.neo4j_http_port
        (conf / "neo4j.conf").write_text(
            "\n".join(
                [
                    f"server.default_listen_address={host}",
                    f"server.default_advertised_address={host}",
                    f"server.bolt.listen_address={host}:{port}",
                    f"server.bolt.advertised_address={host}:{port}",
                    f"server.http.listen_address={host}:{http_port}",
                    f"server.http.advertised_address={host}:{http_port}",
                    "server.https.enabled=false",
                    "server.memory.heap.initial_size=1g",
                    "server.memory.heap.max_size=1g",
                    "server.memory.pagecache.size=512m",
                    f"server.directories.data={self.data_dir / 'data'}",
                    f"server.directories.logs={self.data_dir / 'logs'}",
                    f"server.directories.run={self.data_dir / 'run'}",
                    f"server.directories.plugins={self.data_dir / 'plugins'}",
                    f"server.directories.import={self.data_dir / 'import'}",
                    "dbms.security.auth_enabled=true",
                    "db.tx_log.rotation.retention_policy=100M size",
                    "server.logs.gc.enabled=false",
                    "",
                ]
            )
        )
        return conf

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "NEO4J_HOME": str(self.data_dir), "NEO4J_CONF": str(self.data_dir / "conf")}

    def up(self) -> bool:
        if not port_open(self.bolt.hostname or "127.0.0.1", self.bolt.port or 7687):
            return False
        token = base64.b64encode(f"{self.settings.neo4j_user}:{self.settings.neo4j_password}".encode()).decode()
        return http_ok(
            f"http://{self.bolt.hostname}:{self.settings.neo4j_http_port}/db/{self.settings.neo4j_database}/tx/commit",
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
            body=json.dumps({"statements": [{"statement": "RETURN 1"}]}).encode(),
        )

    def launch(self) -> None:
        conf = self.write_config()
        if not (self.data_dir / "data" / "dbms" / "auth.ini").exists():
            run(
                *self.java_command("org.neo4j.cli.AdminTool", "dbms", "set-initial-password",
                                   self.settings.neo4j_password),
                env=self.env,
            )
        command = [
            "java", "-Xms1g", "-Xmx1g", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
            "-cp", f"{self.lib_dir}/*", "org.neo4j.server.CommunityEntryPoint",
            f"--home-dir={self.data_dir}", f"--config-dir={conf}",
        ]
        self.pid_file.write_text(str(spawn(command, self.log_file, self.env, self.data_dir).pid))


SERVERS = {server.name: server for server in (RabbitMQ, MinIO, Neo4j)}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("start", "stop", "status"):
        print(__doc__)
        return 2
    settings = DeploySettings()
    names = argv[1:] or list(SERVERS)
    servers = [SERVERS[name](settings) for name in names]
    if argv[0] == "start":
        if not argv[1:]:  # the whole system, or the tests' isolated setup: the ingestor needs its OCR too
            install_tesseract()
        for server in servers:
            server.start()
    elif argv[0] == "stop":
        for server in servers:
            server.stop()
            log(f"{server.name} stopped")
    else:
        states = {server.name: server.up() for server in servers}
        for name, up in states.items():
            print(f"{name}: {'up' if up else 'down'}")
        return 0 if all(states.values()) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Jaeger v2 (all-in-one, in memory) with its web UI, natively on loopback, for the services' traces.

    python -m deploy.native.jaeger build [--ui-source DIR]   # the binary; with a jaeger-ui checkout, its UI
    python -m deploy.native.jaeger start | stop | status
    python -m deploy.native.jaeger screenshot TRACE_ID OUT.png

The binary comes from the Go module proxy, built in a scratch module (`go install` refuses a module
with `replace` directives); a binary built so has no UI. The UI is jaeger-ui at the same version,
built from a checkout of it with npm and served by Jaeger from its files (the query extension's
`ui.assets_path`). Both are cached under DOCINTAKE_CACHE_DIR; the log and pid under
DOCINTAKE_STATE_DIR/jaeger. OTLP on 127.0.0.1:4317 (gRPC) and 4318 (HTTP), UI and query API on
127.0.0.1:16686, traces in memory (gone when it stops). Point the services at it with
DOCINTAKE_OTLP_ENDPOINT=http://127.0.0.1:4318.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from deploy.native.processes import pid_alive, spawn, stop_pid
from deploy.native.servers import go_tool_path, http_ok, wait_until
from deploy.native.settings import DeploySettings

JAEGER_MODULE = "github.com/jaegertracing/jaeger"
JAEGER_VERSION = "v1.75.0"  # Jaeger v2.12.0; jaeger-ui has the tag v1.75.0 to match
UI_URL = "http://127.0.0.1:16686"


def log(message: str) -> None:
    print(f"[jaeger] {message}", file=sys.stderr, flush=True)


def binary_path(settings: DeploySettings) -> Path:
    return go_tool_path(settings, "jaeger", JAEGER_VERSION)


def ui_assets(settings: DeploySettings) -> Path:
    return settings.cache_dir / "jaeger-ui" / JAEGER_VERSION


def run_in(*command: str, cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, check=True, stdin=subprocess.DEVNULL)


def build_binary(settings: DeploySettings) -> Path:
    binary = binary_path(settings)
    if binary.exists():
        return binary
    log(f"building jaeger {JAEGER_VERSION} from the Go module proxy (a cold build takes minutes)")
    scratch = settings.cache_dir / "jaeger-build"
    scratch.mkdir(parents=True, exist_ok=True)
    if not (scratch / "go.mod").exists():
        run_in("go", "mod", "init", "jaeger-build", cwd=scratch)
    run_in("go", "get", "-tool", f"{JAEGER_MODULE}/cmd/jaeger@{JAEGER_VERSION}", cwd=scratch)
    binary.parent.mkdir(parents=True, exist_ok=True)
    run_in("go", "build", "-o", str(binary), f"{JAEGER_MODULE}/cmd/jaeger", cwd=scratch)
    return binary


def build_ui(settings: DeploySettings, source: Path) -> Path:
    """npm ci and the production build of a jaeger-ui checkout (tag v1.75.0), copied to the cache.
    That tag asks for Node 24; its build runs on Node 20 as well, hence --engine-strict=false."""
    assets = ui_assets(settings)
    if (assets / "index.html").exists():
        return assets
    log(f"building jaeger-ui from {source} with npm (about two minutes)")
    run_in("npm", "ci", "--engine-strict=false", "--no-audit", "--no-fund", cwd=source)
    run_in("npm", "run", "build", cwd=source / "packages" / "jaeger-ui")
    shutil.copytree(source / "packages" / "jaeger-ui" / "build", assets)
    return assets


def start(settings: DeploySettings) -> None:
    state = settings.state_dir / "jaeger"
    if pid_alive(state / "pid"):
        log(f"jaeger already runs: {UI_URL}")
        return
    command = [
        str(build_binary(settings)),
        "--set=extensions.jaeger_query.http.endpoint=127.0.0.1:16686",
        "--set=extensions.jaeger_query.grpc.endpoint=127.0.0.1:16685",
    ]
    assets = ui_assets(settings)
    if (assets / "index.html").exists():
        command.append(f"--set=extensions.jaeger_query.ui.assets_path={assets}")
    else:
        log(f"no UI built under {assets} (build --ui-source DIR): the page on :16686 is a placeholder")
    state.mkdir(parents=True, exist_ok=True)
    (state / "pid").write_text(str(spawn(command, state / "jaeger.log", dict(os.environ), state).pid))
    wait_until("jaeger", lambda: http_ok(f"{UI_URL}/api/services"))
    log(f"jaeger ready: {UI_URL} (log {state / 'jaeger.log'})")


def screenshot(trace_id: str, out: Path) -> None:
    """The trace's page in Jaeger's UI, as headless Chromium renders it (make browser installs it)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={out.resolve()}", "--window-size=1600,1030", "--virtual-time-budget=15000",
         f"{UI_URL}/trace/{trace_id}"],
        check=True, stdin=subprocess.DEVNULL, capture_output=True,
    )
    log(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.native.jaeger")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build")
    build.add_argument("--ui-source", type=Path, help="a checkout of jaeger-ui at tag v1.75.0")
    for name in ("start", "stop", "status"):
        commands.add_parser(name)
    shot = commands.add_parser("screenshot")
    shot.add_argument("trace_id")
    shot.add_argument("out", type=Path)
    args = parser.parse_args()
    settings = DeploySettings()
    pid_file = settings.state_dir / "jaeger" / "pid"
    if args.command == "build":
        log(f"binary: {build_binary(settings)}")
        if args.ui_source:
            log(f"UI: {build_ui(settings, args.ui_source)}")
    elif args.command == "start":
        start(settings)
    elif args.command == "stop":
        stop_pid(pid_file)
    elif args.command == "status":
        pid = pid_alive(pid_file)
        print(f"jaeger: {'running, pid ' + str(pid) + ', ' + UI_URL if pid else 'stopped'}")
    elif args.command == "screenshot":
        screenshot(args.trace_id, args.out)


if __name__ == "__main__":
    main()

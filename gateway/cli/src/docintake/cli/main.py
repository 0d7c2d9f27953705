"""`docintake`: the administrator's command line for batch ingestion.

    docintake ingest PATH... [--collection NAME] [--metadata mapping.csv|json] [--wait] [--json]
    docintake status BATCH_ID | docintake batches | docintake cancel BATCH_ID | docintake retry BATCH_ID

Folders are walked and each file is sent under its path relative to the folder (a file named
on its own, under its name): that path is its source in the collection, so ingesting the folder
again updates what changed. More files than one batch takes are split into several batches. With
--wait a progress bar per batch and overall shows documents done, failed, rate and ETA,
then a table of the failed documents; the exit status is 1 when any document failed.
Ctrl-C while waiting stops the waiting, not the batches.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from docintake.contracts.mapping import MappingError, parse_mapping

INGEST = "/api/v1/documents/ingest"
TERMINAL = {"completed", "partial_failure", "failed", "cancelled"}
POLL_SECONDS = 0.5


class CliError(Exception):
    """Something the user can fix; printed without a trace."""


class Api:
    def __init__(self, base_url: str, api_key: str):
        self.http = httpx.Client(base_url=base_url, headers={"X-API-Key": api_key}, timeout=httpx.Timeout(30, read=600))

    def call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach docintake at {self.http.base_url}: {exc}") from None
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code >= 400:
            error = body.get("error", {})
            raise CliError(f"{error.get('code', response.status_code)}: {error.get('message', response.text)}")
        return body

    def upload(self, files: list["Source"], mapping: dict[str, dict], collection: str) -> dict:
        with ExitStack() as stack:
            parts: list[tuple[str, tuple[str, Any, str] | tuple[str, Any]]] = [
                ("files", (source.path, stack.enter_context(source.file.open("rb")))) for source in files]
            names = {source.file.name for source in files}
            subset = {name: mapping[name] for name in names if name in mapping}
            if subset:
                parts.append(("metadata_mapping", ("metadata.json", json.dumps(subset).encode(), "application/json")))
            return self.call("POST", f"{INGEST}/batch", params={"collection": collection}, files=parts)

    def status(self, batch_id: str) -> dict:
        return self.call("GET", f"{INGEST}/batch/{batch_id}/status")


@dataclass(frozen=True)
class Source:
    """A file to upload, and its path in the collection: relative to the folder walked, or its name."""

    file: Path
    path: str


def walk(paths: list[Path], skip: set[Path]) -> Iterator[Source]:
    for path in paths:
        if path.is_dir():
            yield from (Source(p, p.relative_to(path).as_posix()) for p in sorted(
                p for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.resolve() not in skip
            ))
        elif path.is_file():
            yield Source(path, path.name)
        else:
            raise CliError(f"no such file or folder: {path}")


def batches_of(files: list[Source], size: int) -> list[list[Source]]:
    return [files[start : start + size] for start in range(0, len(files), size)]


def read_mapping(path: Path | None) -> dict[str, dict]:
    if path is None:
        return {}
    try:
        return parse_mapping(path.read_bytes(), filename=path.name)
    except (OSError, MappingError) as exc:
        raise CliError(f"metadata mapping {path}: {exc}") from None


class Output:
    """Progress bars and tables on a terminal, plain lines elsewhere, JSON with --json."""

    def __init__(self, as_json: bool):
        self.as_json = as_json
        self.console = Console(stderr=False)
        self.interactive = self.console.is_terminal and not as_json

    def say(self, text: str) -> None:
        if not self.as_json:
            self.console.print(text, highlight=False)

    def data(self, value) -> None:
        if self.as_json:
            print(json.dumps(value, indent=2))

    def failures(self, statuses: list[dict]) -> None:
        failed = [(s["batch_id"], f) for s in statuses for f in s.get("failed_documents", [])]
        if not failed or self.as_json:
            return
        table = Table(title="Failed documents")
        for column in ("batch", "file", "error"):
            table.add_column(column)
        for batch_id, failure in failed:
            table.add_row(batch_id[:8], failure["filename"], failure["error"])
        self.console.print(table)


def done(status: dict) -> int:
    return (status["processed_count"] + status.get("unchanged_count", 0) + status["failed_count"]
            + status.get("cancelled_count", 0))


def wait(api: Api, batch_ids: list[str], out: Output) -> list[dict]:
    statuses = {batch_id: api.status(batch_id) for batch_id in batch_ids}
    if out.interactive:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[failed]} failed"), TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
        with Progress(*columns, console=out.console) as progress:
            overall = progress.add_task("all batches", total=sum(s["total_documents"] for s in statuses.values()),
                                        failed=0, rate="")
            tasks: dict[str, TaskID] = {
                batch_id: progress.add_task(batch_id[:8], total=s["total_documents"], failed=0, rate="")
                for batch_id, s in statuses.items()
            }
            poll(api, statuses, lambda: update_bars(progress, tasks, overall, statuses))
    else:
        poll(api, statuses, lambda: out.say(" ".join(
            f"{batch_id[:8]}: {done(s)}/{s['total_documents']} ({s['failed_count']} failed)"
            for batch_id, s in statuses.items())))
    return list(statuses.values())


def poll(api: Api, statuses: dict[str, dict], show) -> None:
    last_shown = ""
    while True:
        for batch_id, status in statuses.items():
            if status["status"] not in TERMINAL:
                statuses[batch_id] = api.status(batch_id)
        shown = json.dumps([[done(s), s["failed_count"], s["status"]] for s in statuses.values()])
        if shown != last_shown:
            show()
            last_shown = shown
        if all(s["status"] in TERMINAL for s in statuses.values()):
            return
        time.sleep(POLL_SECONDS)


def update_bars(progress: Progress, tasks: dict[str, TaskID], overall: TaskID, statuses: dict[str, dict]) -> None:
    for batch_id, task in tasks.items():
        status = statuses[batch_id]
        progress.update(task, completed=done(status), failed=status["failed_count"], rate=status["status"])
    finished = sum(done(s) for s in statuses.values())
    elapsed = max(progress.tasks[overall].elapsed or 0, 1e-6)
    progress.update(overall, completed=finished, failed=sum(s["failed_count"] for s in statuses.values()),
                    rate=f"{finished / elapsed * 60:.0f}/min")


def ingest(api: Api, args, out: Output) -> int:
    mapping_path = args.metadata.resolve() if args.metadata else None
    files = list(walk(args.paths, {mapping_path} if mapping_path else set()))
    if not files:
        raise CliError("no files to ingest")
    mapping = read_mapping(args.metadata)
    accepted = []
    for number, batch in enumerate(batches_of(files, args.batch_size), start=1):
        answer = api.upload(batch, mapping, args.collection)
        accepted.append(answer)
        out.say(f"batch {number}: {answer['batch_id']} accepted, {answer['total_documents']} documents")
        for warning in answer.get("warnings", []):
            out.say(f"  warning: {warning}")
    if not args.wait:
        out.data({"batches": accepted})
        return 0
    try:
        statuses = wait(api, [a["batch_id"] for a in accepted], out)
    except KeyboardInterrupt:
        out.say("stopped waiting; the batches go on. Check them with: docintake status BATCH_ID")
        out.data({"batches": accepted, "waiting": "interrupted"})
        return 130
    out.failures(statuses)
    out.data({"batches": statuses})
    failed = sum(s["failed_count"] for s in statuses)
    out.say(f"{sum(s['processed_count'] for s in statuses)} ingested, "
            f"{sum(s.get('unchanged_count', 0) for s in statuses)} unchanged, {failed} failed")
    return 1 if failed or any(s["status"] == "cancelled" for s in statuses) else 0


def show_status(status: dict, out: Output) -> None:
    out.say(
        f"{status['batch_id']}: {status['status']}, {status['processed_count']} ingested, "
        f"{status.get('unchanged_count', 0)} unchanged, {status['failed_count']} failed of {status['total_documents']}"
        + (f", ETA {status['estimated_completion_time']}" if status.get("estimated_completion_time") else "")
    )
    out.failures([status])
    out.data(status)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="docintake", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    root.add_argument("--url", default=os.environ.get("DOCINTAKE_URL", "http://127.0.0.1:8000"),
                      help="base URL of the gateway (DOCINTAKE_URL)")
    root.add_argument("--api-key", default=os.environ.get("DOCINTAKE_API_KEY")
                      or os.environ.get("DOCINTAKE_API_KEYS", "dev-key").split(",")[0],
                      help="X-API-Key (DOCINTAKE_API_KEY)")
    root.add_argument("--json", action="store_true", help="machine-readable output")
    commands = root.add_subparsers(dest="command", required=True)
    ingest_command = commands.add_parser("ingest", help="upload files and folders")
    ingest_command.add_argument("paths", nargs="+", type=Path)
    ingest_command.add_argument("--collection", default="default",
                                help="the collection (knowledge base) the files belong to (default: default)")
    ingest_command.add_argument("--metadata", type=Path, help="CSV or JSON mapping from filename to metadata")
    ingest_command.add_argument("--wait", action="store_true", help="show progress until every batch has finished")
    ingest_command.add_argument("--batch-size", type=int, default=100, help=argparse.SUPPRESS)
    for name in ("status", "cancel", "retry"):
        commands.add_parser(name, help=f"{name} a batch").add_argument("batch_id")
    batches = commands.add_parser("batches", help="list batches, newest first")
    batches.add_argument("--status", help="only batches in this state")
    batches.add_argument("--all", action="store_true", help="every page, not only the newest 20 batches")
    return root


def list_batches(api: Api, status: str | None, every_page: bool) -> dict:
    """The newest page of batches, or with `every_page` all of them, newest first."""
    params = {"status": status} if status else {}
    listed: list[dict] = []
    while True:
        page = api.call("GET", f"{INGEST}/batches", params=params or None)
        listed += page["batches"]
        if not (every_page and page.get("next_cursor")):
            return {"batches": listed, "next_cursor": page.get("next_cursor")}
        params = {**params, "cursor": page["next_cursor"]}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    out = Output(args.json)
    api = Api(args.url, args.api_key)
    try:
        if args.command == "ingest":
            return ingest(api, args, out)
        if args.command == "status":
            show_status(api.status(args.batch_id), out)
        elif args.command in ("cancel", "retry"):
            show_status(api.call("POST", f"{INGEST}/batch/{args.batch_id}/{args.command}"), out)
        else:
            listed = list_batches(api, args.status, every_page=args.all)
            for status in listed["batches"]:
                out.say(f"{status['batch_id']}  {status['status']:<16} {done(status)}/{status['total_documents']}")
            out.data(listed)
        return 0
    except CliError as exc:
        print(f"docintake: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

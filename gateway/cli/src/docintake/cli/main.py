"""`docintake`: the administrator's command line for batch ingestion.

    docintake ingest PATH... [--collection NAME] [--metadata mapping.csv|json] [--wait] [--json]
    docintake sync FOLDER [--collection NAME] [--prune] [--metadata mapping.csv|json] [--json]
    docintake delete --collection NAME [PATH...] [--yes]
    docintake status BATCH_ID | docintake batches | docintake cancel BATCH_ID | docintake retry BATCH_ID

Folders are walked and each file is sent under its path relative to the folder (a file named
on its own, under its name): that path is its source in the collection, so ingesting the folder
again updates what changed. More files than one batch takes are split into several batches. With
--wait a progress bar per batch and overall shows documents done, failed, rate and ETA,
then a table of the failed documents; the exit status is 1 when any document failed.
Ctrl-C while waiting stops the waiting, not the batches.

sync hashes the folder's files, asks the gateway which the collection lacks or holds in another
version, uploads only those (as ingest --wait does) and says how many of the collection's sources
the folder no longer has; with --prune it deletes them and follows the deletion to its end. delete
removes the sources named, or with no path the whole collection (after asking, unless --yes), and
follows the deletion to its end.
"""

import argparse
import gzip
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
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
COLLECTIONS = "/api/v1/collections"
DELETIONS = "/api/v1/deletions"
HASH_CHUNK = 1024 * 1024
DELETE_LIST_SIZE = 10_000  # the sources one list-delete request may name
TERMINAL = {"completed", "partial_failure", "failed", "cancelled"}
POLL_SECONDS = 0.5
FIRST_POLL_SECONDS = 0.1  # a small batch is asked about soon; the pause grows to POLL_SECONDS


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

    def deletion(self, deletion_id: str) -> dict:
        return self.call("GET", f"{DELETIONS}/{deletion_id}")


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
            + status.get("cancelled_count", 0) + status.get("removed_count", 0))


def wait(api: Api, batch_ids: list[str], out: Output, read: Callable[[str], dict] | None = None) -> list[dict]:
    """Each batch's (or with `read` = api.deletion, each deletion's) status once all have finished."""
    read = read or api.status
    statuses = {batch_id: read(batch_id) for batch_id in batch_ids}
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
            poll(read, statuses, lambda: update_bars(progress, tasks, overall, statuses))
    else:
        poll(read, statuses, lambda: out.say(" ".join(
            f"{batch_id[:8]}: {done(s)}/{s['total_documents']} ({s['failed_count']} failed)"
            for batch_id, s in statuses.items())))
    return list(statuses.values())


def poll(read: Callable[[str], dict], statuses: dict[str, dict], show) -> None:
    last_shown = ""
    pause = FIRST_POLL_SECONDS
    while True:
        for batch_id, status in statuses.items():
            if status["status"] not in TERMINAL:
                statuses[batch_id] = read(batch_id)
        shown = json.dumps([[done(s), s["failed_count"], s["status"]] for s in statuses.values()])
        if shown != last_shown:
            show()
            last_shown = shown
        if all(s["status"] in TERMINAL for s in statuses.values()):
            return
        time.sleep(pause)
        pause = min(pause * 1.5, POLL_SECONDS)


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
    status, report = upload_all(api, files, args, out, wait_for_them=args.wait)
    out.data(report)
    return status


def upload_all(api: Api, files: list[Source], args, out: Output, wait_for_them: bool) -> tuple[int, dict]:
    """Upload `files` in batches of at most --batch-size; with `wait_for_them` show their progress until all
    have finished, then the failed documents and the summary. The exit status, and what --json reports."""
    mapping = read_mapping(args.metadata)
    accepted = []
    for number, batch in enumerate(batches_of(files, args.batch_size), start=1):
        answer = api.upload(batch, mapping, args.collection)
        accepted.append(answer)
        out.say(f"batch {number}: {answer['batch_id']} accepted, {answer['total_documents']} documents")
        for warning in answer.get("warnings", []):
            out.say(f"  warning: {warning}")
    if not wait_for_them:
        return 0, {"batches": accepted}
    try:
        statuses = wait(api, [a["batch_id"] for a in accepted], out)
    except KeyboardInterrupt:
        out.say("stopped waiting; the batches go on. Check them with: docintake status BATCH_ID")
        return 130, {"batches": accepted, "waiting": "interrupted"}
    out.failures(statuses)
    failed = sum(s["failed_count"] for s in statuses)
    out.say(f"{sum(s['processed_count'] for s in statuses)} ingested, "
            f"{sum(s.get('unchanged_count', 0) for s in statuses)} unchanged, {failed} failed")
    return 1 if failed or any(s["status"] == "cancelled" for s in statuses) else 0, {"batches": statuses}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sync(api: Api, args, out: Output) -> int:
    if not args.folder.is_dir():
        raise CliError(f"no such folder: {args.folder}")
    mapping_path = args.metadata.resolve() if args.metadata else None
    files = list(walk([args.folder], {mapping_path} if mapping_path else set()))
    listed = [{"path": f.path, "sha256": sha256_of(f.file), "size": f.file.stat().st_size} for f in files]
    answer = api.call("POST", f"{COLLECTIONS}/{args.collection}/sync",
                      content=gzip.compress(json.dumps({"sources": listed}).encode(), compresslevel=6),
                      headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    wanted = set(answer["new"]) | set(answer["changed"])
    to_upload = [f for f in files if f.path in wanted]
    absent = answer["absent"]
    out.say(f"{len(answer['new'])} new, {len(answer['changed'])} changed, {len(answer['unchanged'])} unchanged, "
            f"{len(absent)} absent from the folder")
    report: dict[str, Any] = {key: answer[key] for key in ("new", "changed", "unchanged", "absent")}
    status, uploaded = upload_all(api, to_upload, args, out, wait_for_them=True) if to_upload else (0, {})
    report |= {"batches": [], "deletions": []} | uploaded
    if absent and not args.prune:
        out.say(f"{len(absent)} source(s) of the collection are no longer in the folder; "
                "delete them with: docintake sync --prune")
    elif absent and status != 130:
        accepted = [api.call("POST", f"{COLLECTIONS}/{args.collection}/sources/delete", json={"source_paths": part})
                    for part in batches_of(absent, DELETE_LIST_SIZE)]
        deleted, report["deletions"] = follow_deletions(api, accepted, out)
        status = status or deleted
    out.data(report)
    return status


def follow_deletions(api: Api, accepted: list[dict], out: Output) -> tuple[int, list[dict]]:
    """Show the deletions' progress until all have finished: the exit status (1 when one did not remove
    everything it named) and their last statuses."""
    for answer in accepted:
        out.say(f"deletion {answer['deletion_id']} accepted, {answer['total_sources']} sources")
    try:
        statuses = wait(api, [answer["deletion_id"] for answer in accepted], out, read=api.deletion)
    except KeyboardInterrupt:
        out.say(f"stopped waiting; the deletions go on. Follow them at {DELETIONS}/DELETION_ID")
        return 130, [{**answer, "waiting": "interrupted"} for answer in accepted]
    out.failures(statuses)
    out.say(f"{sum(s.get('removed_count', 0) for s in statuses)} removed, "
            f"{sum(s['failed_count'] for s in statuses)} failed")
    return (0 if all(s["status"] == "completed" for s in statuses) else 1), statuses


def delete(api: Api, args, out: Output) -> int:
    if args.paths:
        accepted = api.call("POST", f"{COLLECTIONS}/{args.collection}/sources/delete",
                            json={"source_paths": args.paths})
    else:
        if not args.yes:
            if not sys.stdin.isatty():
                raise CliError(f"deleting the whole collection '{args.collection}' needs --yes when not asked "
                               "at a terminal")
            reply = input(f"Delete every source of collection '{args.collection}'? [y/N] ")
            if reply.strip().lower() not in ("y", "yes"):
                out.say("nothing deleted")
                return 1
        accepted = api.call("DELETE", f"{COLLECTIONS}/{args.collection}")
    status, deletions = follow_deletions(api, [accepted], out)
    out.data({"deletions": deletions})
    return status


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
    sync_command = commands.add_parser("sync", help="upload what a folder has new or changed; --prune deletes "
                                       "what it no longer has")
    sync_command.add_argument("folder", type=Path)
    sync_command.add_argument("--collection", default="default", help="the collection to sync (default: default)")
    sync_command.add_argument("--prune", action="store_true",
                              help="delete the collection's sources the folder no longer has")
    sync_command.add_argument("--metadata", type=Path, help="CSV or JSON mapping from filename to metadata")
    sync_command.add_argument("--batch-size", type=int, default=100, help=argparse.SUPPRESS)
    delete_command = commands.add_parser("delete", help="delete sources of a collection, or all of it")
    delete_command.add_argument("--collection", required=True, help="the collection to delete from")
    delete_command.add_argument("paths", nargs="*", help="source paths to delete (none: the whole collection)")
    delete_command.add_argument("--yes", action="store_true", help="delete a whole collection without asking")
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
        if args.command == "sync":
            return sync(api, args, out)
        if args.command == "delete":
            return delete(api, args, out)
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

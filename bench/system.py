"""The whole system as the benchmarks drive it: the three services as processes of their own (against the
servers of DOCINTAKE_*, on free ports), documents uploaded through the gateway's public API in batches of 100,
and every batch's BatchCompleted awaited."""

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.native import services as native_services  # noqa: E402
from deploy.native.services import ServiceProcess, system  # noqa: E402
from deploy.native.settings import DeploySettings  # noqa: E402
from docintake.ingestor.settings import IngestorSettings  # noqa: E402
from docintake.platform.graphdb import open_driver  # noqa: E402
from tests.support.batches import INGEST  # noqa: E402
from tests.support.broker import EventListener, listen  # noqa: E402
from tests.support.http import free_port  # noqa: E402

BATCH_SIZE = 100
MiB = 1024 * 1024
OUTCOMES_AND_COMPLETIONS = ("document.ingested", "document.failed", "batch.completed")
# a machine busy with other work can take minutes to start a service; the clock starts only once all are ready
native_services.READY_TIMEOUT_SECONDS = 600


class Usage:
    """The highest memory of each service's process tree (the ingestor's parser pool included), and the CPU
    seconds each service's tree and each server took while the system ran.

    Memory is told two ways. RSS summed over a tree counts a page once for every process that maps it, so the pages
    the parser workers share copy-on-write with the forkserver they were forked from (and the shared libraries of
    every process) are counted several times. PSS (/proc/PID/smaps_rollup) divides each shared page among the
    processes sharing it: summed over a tree it is what the tree costs the machine."""

    SERVERS = ("rabbitmq", "minio", "neo4j")

    def __init__(self, services: list[ServiceProcess]) -> None:
        self.services = services
        self.peaks = {service.name: 0 for service in services}  # summed RSS
        self.pss_peaks = {service.name: 0 for service in services}
        # each service's processes by their part (main, forkserver, parser worker ...): their highest RSS and PSS
        self.process_peaks: dict[str, dict[str, tuple[int, int]]] = {service.name: {} for service in services}
        self.cpu = {service.name: 0.0 for service in services}
        self.started = time.perf_counter()
        self.seconds = 0.0
        self._servers_at_start = self._servers_cpu()

    async def sample_every(self, seconds: float) -> None:
        while True:
            self._sample()
            await asyncio.sleep(seconds)

    def finish(self) -> None:
        """The last sample, taken before the services stop."""
        self._sample()
        self.seconds = time.perf_counter() - self.started
        for name, cpu in self._servers_cpu().items():
            self.cpu[name] = cpu - self._servers_at_start.get(name, 0.0)

    def summary(self) -> str:
        if not self.seconds:
            self.finish()
        return ("peak RSS summed over each service's processes (shared pages counted in each): "
                + ", ".join(f"{name} {peak / MiB:.0f} MiB" for name, peak in self.peaks.items())
                + "\npeak PSS summed over each service's processes (shared pages divided among them): "
                + ", ".join(f"{name} {peak / MiB:.0f} MiB" for name, peak in self.pss_peaks.items())
                + "".join(f"\n  {name}'s processes, peak RSS / PSS each: " + ", ".join(
                    f"{part} {rss / MiB:.0f} / {pss / MiB:.0f} MiB" for part, (rss, pss) in parts.items())
                    for name, parts in self.process_peaks.items() if len(parts) > 1)
                + f"\nCPU seconds over {self.seconds:.0f} s on {os.cpu_count()} cores: "
                + ", ".join(f"{name} {cpu:.1f}" for name, cpu in self.cpu.items()))

    def _sample(self) -> None:
        for service in self.services:
            processes = self._processes(service.pid())
            rss = pss = 0
            cpu = 0.0
            parts = self.process_peaks[service.name]
            for part, memory, seconds in processes:
                rss, pss, cpu = rss + memory[0], pss + memory[1], cpu + seconds
                highest = parts.get(part, (0, 0))
                parts[part] = (max(highest[0], memory[0]), max(highest[1], memory[1]))
            self.peaks[service.name] = max(self.peaks[service.name], rss)
            self.pss_peaks[service.name] = max(self.pss_peaks[service.name], pss)
            self.cpu[service.name] = max(self.cpu[service.name], cpu)

    def _servers_cpu(self) -> dict[str, float]:
        state = DeploySettings().state_dir
        cpu = {}
        for name in self.SERVERS:
            try:
                cpu[name] = sum(seconds for _, _, seconds in self._processes(int((state / name / "pid").read_text())))
            except (OSError, ValueError):
                continue
        return cpu

    @staticmethod
    def _processes(pid: int | None) -> list[tuple[str, tuple[int, int], float]]:
        """The process and its children: each one's part, RSS and PSS, and CPU seconds."""
        if pid is None:
            return []
        try:
            root = psutil.Process(pid)
            tree = (root, *root.children(recursive=True))
            return [(_part(process, root), _rss_and_pss(process), sum(process.cpu_times()[:2])) for process in tree]
        except psutil.Error:
            return []


def _rss_and_pss(process: psutil.Process) -> tuple[int, int]:
    """RSS and PSS in bytes; PSS is the RSS where smaps_rollup cannot be read (not Linux)."""
    rss = process.memory_info().rss
    try:
        with open(f"/proc/{process.pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return rss, int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, rss


def _part(process: psutil.Process, root: psutil.Process) -> str:
    """What a process of a service's tree is there for, from its command line."""
    if process.pid == root.pid:
        return "main"
    command = " ".join(process.cmdline())
    if "resource_tracker" in command:
        return "resource tracker"
    if "forkserver" in command:  # the forkserver's children are forked from it and keep its command line
        return "forkserver" if process.ppid() == root.pid else "parser worker"
    return "child"


@dataclass
class RunningSystem:
    gateway: httpx.AsyncClient
    listener: EventListener
    usage: Usage


@asynccontextmanager
async def running_system(settings: IngestorSettings, ingestors: int = 1,
                         routing_keys: Iterable[str] = OUTCOMES_AND_COMPLETIONS) -> AsyncIterator[RunningSystem]:
    """The services started and ready, a client of the gateway, and a listener bound to `routing_keys`."""
    gateway_port, status_port = free_port(), free_port()
    services = system(settings, ingestors, env={
        "DOCINTAKE_GATEWAY_PORT": str(gateway_port), "DOCINTAKE_STATUS_PORT": str(status_port),
        "DOCINTAKE_INGESTOR_METRICS_PORT": "0",
    }, run_dir=Path(tempfile.mkdtemp(prefix="docintake-bench-")))
    usage = Usage(services)
    sampler = asyncio.create_task(usage.sample_every(0.25))
    try:
        for service in services:
            service.start()
        async with (
            listen(settings.rabbitmq_url, *routing_keys) as listener,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}",
                              headers={"X-API-Key": settings.api_key_list[0]}, timeout=300) as gateway,
        ):
            yield RunningSystem(gateway, listener, usage)
    finally:
        sampler.cancel()
        usage.finish()
        for service in reversed(services):
            service.stop()


async def upload_all(gateway: httpx.AsyncClient, documents: list[tuple[str, bytes]],
                     uploads_at_once: int) -> dict[str, float]:
    """Upload in batches of 100; returns each batch id with the moment its upload started."""
    gate = asyncio.Semaphore(uploads_at_once)
    started_at: dict[str, float] = {}

    async def one(batch: list[tuple[str, bytes]]) -> None:
        async with gate:
            started = time.perf_counter()
            response = await gateway.post(f"{INGEST}/batch", files=[
                ("files", (name, content, "application/octet-stream")) for name, content in batch
            ])
            response.raise_for_status()
            started_at[response.json()["batch_id"]] = started

    await asyncio.gather(*(one(documents[i:i + BATCH_SIZE]) for i in range(0, len(documents), BATCH_SIZE)))
    return started_at


async def until_completed(listener: EventListener, batch_ids: Iterable[str],
                          timeout: float = 3600) -> list[tuple[dict, float]]:
    """Every event received until each of these batches' BatchCompleted, with the moment it arrived;
    the listener is left empty for the next batches."""
    waiting = set(batch_ids)
    arrived: list[tuple[dict, float]] = []

    def all_completed(events: list[dict]) -> bool:
        for event in events[len(arrived):]:
            arrived.append((event, time.perf_counter()))
            if event["event_type"].endswith("batch.completed"):
                waiting.discard(event["batch_id"])
        return not waiting

    await listener.collect(all_completed, timeout=timeout)
    listener.events.clear()
    return arrived


@dataclass
class Ingested:
    seconds: float  # from the first upload's start to the last BatchCompleted
    batches: dict[str, float]  # each batch id with the moment its upload started
    events: list[tuple[dict, float]]  # every event received meanwhile, with the moment it arrived


async def ingest(running: RunningSystem, documents: list[tuple[str, bytes]], uploads_at_once: int) -> Ingested:
    """Upload the documents and wait for every batch's BatchCompleted."""
    started = time.perf_counter()
    batches = await upload_all(running.gateway, documents, uploads_at_once)
    events = await until_completed(running.listener, batches)
    return Ingested(time.perf_counter() - started, batches, events)


def completions(events: list[tuple[dict, float]]) -> dict[str, dict]:
    """Each batch's first BatchCompleted, by batch id."""
    first: dict[str, dict] = {}
    for event, _ in events:
        if event["event_type"].endswith("batch.completed"):
            first.setdefault(event["batch_id"], event)
    return first


def failed_count(events: list[tuple[dict, float]]) -> int:
    """Documents the batches' first completions count as failed."""
    return sum(completion["data"]["failed_count"] for completion in completions(events).values())


def per_minute(count: int, seconds: float) -> float:
    return count / seconds * 60


async def query_graph(settings: IngestorSettings, statement: str, **parameters: object) -> list[dict]:
    """The records of one Cypher statement against the configured Neo4j, as dicts."""
    driver = open_driver(settings)
    try:
        records, _, _ = await driver.execute_query(statement, parameters, database_=settings.neo4j_database)
        return [record.data() for record in records]
    finally:
        await driver.close()

"""Load on the status service: status polling latency while a batch's events are being projected.

    .venv/bin/python bench/status_load.py [--clients 200] [--poll-interval 0.5] [--documents 100] [--batches 10]

Starts the status service as its own process (against the servers of DOCINTAKE_*), then publishes
the events of synthetic batches (BatchCreated and one outcome per document) while `--clients`
concurrent clients poll the status of the first batch, each every `--poll-interval` seconds.
Prints the status route's latency percentiles and the projection's throughput in events per second.
"""

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docintake.platform.messaging import declare_topology, make_broker, messages_waiting, publish_all  # noqa: E402
from docintake.platform.settings import Settings  # noqa: E402
from docintake.platform.topology import STATUS_QUEUE  # noqa: E402
from tests.support.status_events import SyntheticBatch  # noqa: E402
from tests.support.status_service import API_KEY, STATUS, StatusService, status_of  # noqa: E402


async def poll(http: aiohttp.ClientSession, path: str, interval: float, stop,
               latencies: list[tuple[float, float]], errors: list[str]) -> None:
    """Poll until stopped; each latency is kept with the (wall clock) time its request started."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            async with http.get(path) as response:
                await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            errors.append(type(exc).__name__)
            continue
        latencies.append((time.time() - (time.perf_counter() - started), time.perf_counter() - started))
        if response.status != 200:
            errors.append(str(response.status))
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


def pollers(base_url: str, path: str, clients: int, interval: float, stop, results) -> None:
    """`clients` pollers, each with a connection of its own, in a process of their own, so that they do
    not slow the publisher down (aiohttp: httpx's pool costs more than the service under test)."""
    async def all_polling() -> None:
        latencies: list[tuple[float, float]] = []
        errors: list[str] = []
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(base_url=base_url, headers={"X-API-Key": API_KEY}, connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=30)) as http:
            tasks = []
            for _ in range(clients):
                tasks.append(asyncio.create_task(poll(http, path, interval, stop, latencies, errors)))
                await asyncio.sleep(interval / clients)  # spread out, as independent clients are
            await asyncio.gather(*tasks)
        results.put((latencies, errors))

    asyncio.run(all_polling())


async def run(arguments: argparse.Namespace) -> None:
    settings = Settings()
    broker = make_broker(settings.rabbitmq_url)
    await broker.connect()
    await declare_topology(broker)
    service = await StatusService(Path(tempfile.mkdtemp()) / "status.log").start()
    while await messages_waiting(broker, STATUS_QUEUE):  # events left by earlier runs, not ours to time
        await asyncio.sleep(0.5)
    batches = [SyntheticBatch(size=arguments.documents) for _ in range(arguments.batches)]
    events_per_batch = [batch.story("i" * (arguments.documents - 1) + "f", queued=False) for batch in batches]
    total_events = sum(map(len, events_per_batch))
    try:
        async with service.client() as http:
            await publish_all(broker, [events[0] for events in events_per_batch])  # every batch exists
            while await status_of(http, batches[0].batch_id) is None:
                await asyncio.sleep(0.05)

            context = multiprocessing.get_context("spawn")
            stop, results = context.Event(), context.Queue()
            polling = context.Process(target=pollers, args=(
                service.base_url, STATUS.format(batches[0].batch_id), arguments.clients, arguments.poll_interval,
                stop, results))
            polling.start()
            await asyncio.sleep(arguments.poll_interval + 2)  # all pollers under way
            started, projection_began = time.perf_counter(), time.time()
            await publish_all(broker, [event for events in events_per_batch for event in events[1:]])
            published = time.perf_counter()
            for batch in batches:
                while (status := await status_of(http, batch.batch_id)) is None or status.status == "in_progress":
                    await asyncio.sleep(0.05)
            projected, projection_ended = time.perf_counter(), time.time()
            await asyncio.sleep(max(0.0, arguments.min_seconds - (projected - started)))
            polled = time.perf_counter()
            stop.set()
            latencies, errors = await asyncio.to_thread(results.get)
            polling.join()
    finally:
        await service.stop()
        await broker.stop()

    elapsed = projected - started
    print(f"status route: {len(latencies)} requests from {arguments.clients} clients polling every "
          f"{arguments.poll_interval}s ({len(latencies) / (polled - started):.0f} req/s), {len(errors)} errors "
          f"{sorted(set(errors))}")
    during = [latency for at, latency in latencies if projection_began <= at <= projection_ended]
    after = [latency for at, latency in latencies if at > projection_ended]
    for phase, sample in (("while the events are projected", during), ("afterwards", after)):
        if len(sample) >= 2:
            quantiles = statistics.quantiles(sample, n=100)
            p50, p95, p99 = (quantiles[i] * 1000 for i in (49, 94, 98))
            print(f"  {phase}: {len(sample)} requests, latency p50 {p50:.1f} ms, "
                  f"p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {max(sample) * 1000:.1f} ms")
    print(f"projection: {total_events} events of {arguments.batches} batches x {arguments.documents} documents "
          f"in {elapsed:.2f}s = {total_events / elapsed:.0f} events/s (publishing took {published - started:.2f}s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--poll-interval", type=float, default=0.5, help="seconds between one client's polls")
    parser.add_argument("--documents", type=int, default=100, help="documents per batch")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--min-seconds", type=float, default=20, help="poll at least this long")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

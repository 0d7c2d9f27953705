"""Load on the status service: status polling latency while a batch's events are being projected.

    .venv/bin/python bench/status_load.py [--clients 200] [--poll-interval 0.5] [--documents 100] [--batches 10]

Starts the status service as its own process (against the servers of DOCINTAKE_*), then publishes
the events of synthetic batches (BatchCreated and one outcome per document) while `--clients`
concurrent clients poll the status of the first batch, each every `--poll-interval` seconds.
Prints the status route's latency percentiles and the projection's throughput in events per second.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docintake.contracts.messaging import declare_topology, make_broker, messages_waiting, publish_all  # noqa: E402
from docintake.contracts.settings import Settings  # noqa: E402
from docintake.contracts.topology import STATUS_QUEUE  # noqa: E402
from tests.status.status_harness import STATUS, ServiceProcess, status_of  # noqa: E402
from tests.unit.status.status_events import SyntheticBatch  # noqa: E402


async def poll(http: httpx.AsyncClient, path: str, interval: float, stop: asyncio.Event,
               latencies: list[float], errors: list[str]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = await http.get(path)
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
            continue
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            errors.append(str(response.status_code))
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


async def run(arguments: argparse.Namespace) -> None:
    settings = Settings()
    broker = make_broker(settings.rabbitmq_url)
    await broker.connect()
    await declare_topology(broker)
    service = await ServiceProcess(Path(tempfile.mkdtemp()) / "status.log").start()
    while await messages_waiting(broker, STATUS_QUEUE):  # events left by earlier runs, not ours to time
        await asyncio.sleep(0.5)
    batches = [SyntheticBatch(size=arguments.documents) for _ in range(arguments.batches)]
    events_per_batch = [batch.story("i" * (arguments.documents - 1) + "f", queued=False) for batch in batches]
    total_events = sum(map(len, events_per_batch))
    try:
        limits = httpx.Limits(max_connections=arguments.clients, max_keepalive_connections=arguments.clients)
        async with service.client(limits=limits) as http:
            await publish_all(broker, [events[0] for events in events_per_batch])  # every batch exists
            while await status_of(http, batches[0].batch_id) is None:
                await asyncio.sleep(0.05)

            stop, latencies, errors = asyncio.Event(), [], []
            pollers = [
                asyncio.create_task(poll(http, STATUS.format(batches[0].batch_id), arguments.poll_interval, stop,
                                         latencies, errors))
                for _ in range(arguments.clients)
            ]
            await asyncio.sleep(arguments.poll_interval)  # let the pollers spread out
            started = time.perf_counter()
            await publish_all(broker, [event for events in events_per_batch for event in events[1:]])
            published = time.perf_counter()
            for batch in batches:
                while (status := await status_of(http, batch.batch_id)) is None or status.status == "in_progress":
                    await asyncio.sleep(0.05)
            projected = time.perf_counter()
            stop.set()
            await asyncio.gather(*pollers)
    finally:
        await service.stop()
        await broker.stop()

    quantiles = statistics.quantiles(latencies, n=100)
    elapsed = projected - started
    print(f"status route: {len(latencies)} requests from {arguments.clients} clients polling every "
          f"{arguments.poll_interval}s ({len(latencies) / elapsed:.0f} req/s), {len(errors)} errors {sorted(set(errors))}")
    print(f"  latency p50 {quantiles[49] * 1000:.1f} ms, p95 {quantiles[94] * 1000:.1f} ms, "
          f"p99 {quantiles[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    print(f"projection: {total_events} events of {arguments.batches} batches x {arguments.documents} documents "
          f"in {elapsed:.2f}s = {total_events / elapsed:.0f} events/s (publishing took {published - started:.2f}s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--poll-interval", type=float, default=0.5, help="seconds between one client's polls")
    parser.add_argument("--documents", type=int, default=100, help="documents per batch")
    parser.add_argument("--batches", type=int, default=10)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

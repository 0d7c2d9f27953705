"""Load on the status service: how fast it projects events, one batch alone and many at once, and the
status polling latency while it does.

    .venv/bin/python bench/status_load.py [--clients 200] [--poll-interval 0.5] [--documents 100] [--batches 10]
                                          [--single-documents 1000]

Starts the status service as its own process (against the servers of DOCINTAKE_*). The events of each
phase are published first and held back from the service (a consumer of higher priority takes them
from the status and webhook queues and keeps them unacknowledged), then let go all at once, so what
is timed is the projection, not the broker's publishing rate: from the release to the moment the
service announced every batch of the phase finished (its BatchCompleted).

1. One batch alone: a batch of `--single-documents` documents (BatchCreated and one outcome each).
2. Many at once: `--batches` batches of `--documents`, while `--clients` concurrent clients poll the
   status of the first batch, each every `--poll-interval` seconds.

Prints the events per second of each phase and the service's CPU time per event (a figure that a busy,
shared machine disturbs less), and the status route's latency percentiles while the events of phase 2
are projected and afterwards.

Beside them, the floor: the CPU FastStream itself takes for each event as the service receives it (its
message from two queues, the projection's and the webhooks', on a broker set up as the service's, with
FastStream's Prometheus middleware, and handlers that do nothing), measured in this process on the
same broker.
"""

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import aiohttp
from faststream import AckPolicy
from faststream.rabbit import RabbitQueue
from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from prometheus_client import CollectorRegistry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docintake.contracts.events import Event  # noqa: E402
from docintake.platform.messaging import declare_topology, make_broker, messages_waiting, publish_all  # noqa: E402
from docintake.platform.settings import Settings  # noqa: E402
from docintake.platform.topology import STATUS_QUEUE, WEBHOOKS_QUEUE  # noqa: E402
from docintake.status.settings import StatusSettings  # noqa: E402
from tests.support.broker import listen  # noqa: E402
from tests.support.status_events import SyntheticBatch  # noqa: E402
from tests.support.status_service import API_KEY, STATUS, StatusService, status_of  # noqa: E402

# The queues the service consumes every event from: both are held, as both run in the service at once.
HELD_QUEUES = (STATUS_QUEUE, WEBHOOKS_QUEUE)


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


@asynccontextmanager
async def held_back(url: str, messages: int) -> AsyncIterator[None]:
    """While inside, what is published to the service's queues is taken by consumers of a higher
    priority than the service's and kept unacknowledged; leaving closes them, and it all goes back to
    the queues for the service, at once."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=messages)
        for queue in HELD_QUEUES:
            declared = await channel.get_queue(queue.name, ensure=False)
            await declared.consume(_keep, arguments={"x-priority": 10})
        yield
    finally:
        await connection.close()  # the messages held go back to their queues


async def _keep(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    """Neither acknowledged nor rejected: held until the channel closes."""


async def faststream_floor(url: str, bodies: list[bytes]) -> float:
    """The CPU seconds per event that FastStream alone costs the service (see the module's docstring)."""
    broker = make_broker(url, prefetch=StatusSettings().status_prefetch)
    broker.add_middleware(RabbitPrometheusMiddleware(registry=CollectorRegistry(), app_name="docintake-bench"))
    queues = [RabbitQueue(f"docintake.bench.floor.{n}.{os.getpid()}", durable=False, auto_delete=True)
              for n in range(len(HELD_QUEUES))]
    left, done = len(bodies) * len(queues), asyncio.Event()

    async def raw_body(message) -> bytes:
        return message.body

    async def nothing(body: bytes) -> None:
        nonlocal left
        left -= 1
        if left == 0:
            done.set()

    for queue in queues:
        broker.subscriber(queue, decoder=raw_body, ack_policy=AckPolicy.REJECT_ON_ERROR)(nothing)
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        for queue in queues:
            await channel.declare_queue(queue.name, durable=False, auto_delete=True)
            for body in bodies:
                await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue.name)
        cpu_before = time.process_time()
        await broker.start()
        await done.wait()
        spent = time.process_time() - cpu_before
        await broker.stop()
    finally:
        await connection.close()
    return spent / len(bodies)


def cpu_seconds(pid: int) -> float:
    """The CPU time the process has used so far, user and system (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Projected:
    events: int
    released_at: float  # wall clock
    seconds: float
    cpu_seconds: float  # the service's, meanwhile

    def report(self, label: str) -> str:
        return (f"{label}: {self.events} events in {self.seconds:.2f}s = {self.events / self.seconds:.0f} events/s; "
                f"the service used {self.cpu_seconds * 1000 / self.events:.2f} ms of CPU per event "
                f"({self.events / self.cpu_seconds:.0f} events per CPU second)")


async def project_held(broker, url: str, service: StatusService, events: list[Event],
                       batches: list[SyntheticBatch]) -> Projected:
    """Publish the events held back, let them go, and wait until the service announced every batch's
    completion (a BatchCompleted goes out once its record is committed; asking for the status instead
    would add the rendering of a large batch's every document to what is timed)."""
    pid = service.process.pid()
    assert pid is not None
    wanted = {str(batch.batch_id) for batch in batches}
    async with listen(url, "batch.completed") as completions:
        async with held_back(url, len(events) + 100):
            await publish_all(broker, events)
            cpu_before = cpu_seconds(pid)
        released, released_at = time.perf_counter(), time.time()
        await completions.collect(lambda seen: wanted <= {event["batch_id"] for event in seen}, timeout=3600)
    return Projected(len(events), released_at, time.perf_counter() - released, cpu_seconds(pid) - cpu_before)


async def run(arguments: argparse.Namespace) -> None:
    settings = Settings()
    broker = make_broker(settings.rabbitmq_url)
    await broker.connect()
    await declare_topology(broker)
    service = await StatusService(Path(tempfile.mkdtemp()) / "status.log").start()
    for queue in HELD_QUEUES:  # events left by earlier runs, not ours to time
        while await messages_waiting(broker, queue):
            await asyncio.sleep(0.5)
    single = SyntheticBatch(size=arguments.single_documents)
    single_events = single.story("i" * (arguments.single_documents - 1) + "f", queued=False)
    batches = [SyntheticBatch(size=arguments.documents) for _ in range(arguments.batches)]
    events_per_batch = [batch.story("i" * (arguments.documents - 1) + "f", queued=False) for batch in batches]
    many_events = [event for events in events_per_batch for event in events[1:]]
    floor = await faststream_floor(settings.rabbitmq_url, [event.model_dump_json().encode() for event in single_events])
    try:
        async with service.client() as http:
            alone = await project_held(broker, settings.rabbitmq_url, service, single_events, [single])

            await publish_all(broker, [events[0] for events in events_per_batch])  # every batch exists
            for batch in batches:
                while await status_of(http, batch.batch_id) is None:
                    await asyncio.sleep(0.05)
            context = multiprocessing.get_context("spawn")
            stop, results = context.Event(), context.Queue()
            polling = context.Process(target=pollers, args=(
                service.base_url, STATUS.format(batches[0].batch_id), arguments.clients, arguments.poll_interval,
                stop, results), daemon=True)
            polling.start()
            await asyncio.sleep(arguments.poll_interval + 2)  # all pollers under way
            started = time.perf_counter()
            many = await project_held(broker, settings.rabbitmq_url, service, many_events, batches)
            await asyncio.sleep(max(0.0, arguments.min_seconds - (time.perf_counter() - started)))
            polled = time.perf_counter()
            stop.set()
            latencies, errors = await asyncio.to_thread(results.get)
            polling.join()
    finally:
        await service.stop()
        await broker.stop()

    print(f"floor, FastStream alone as the service takes each event (two queues, a handler that does nothing): "
          f"{floor * 1000:.2f} ms of CPU per event ({1 / floor:.0f} events per CPU second)")
    print(alone.report(f"projection, one batch alone ({arguments.single_documents} documents)"))
    print(many.report(f"projection, {arguments.batches} batches x {arguments.documents} documents at once"))
    print(f"status route: {len(latencies)} requests from {arguments.clients} clients polling every "
          f"{arguments.poll_interval}s ({len(latencies) / (polled - started):.0f} req/s), {len(errors)} errors "
          f"{sorted(set(errors))}")
    projection_ended = many.released_at + many.seconds
    during = [latency for at, latency in latencies if many.released_at <= at <= projection_ended]
    after = [latency for at, latency in latencies if at > projection_ended]
    for phase, sample in (("while the events are projected", during), ("afterwards", after)):
        if len(sample) >= 2:
            quantiles = statistics.quantiles(sample, n=100)
            p50, p95, p99 = (quantiles[i] * 1000 for i in (49, 94, 98))
            print(f"  {phase}: {len(sample)} requests, latency p50 {p50:.1f} ms, "
                  f"p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {max(sample) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--poll-interval", type=float, default=0.5, help="seconds between one client's polls")
    parser.add_argument("--documents", type=int, default=100, help="documents per batch of the many")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--single-documents", type=int, default=1000, help="documents of the batch alone")
    parser.add_argument("--min-seconds", type=float, default=20, help="poll at least this long")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

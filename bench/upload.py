"""Upload benchmark: one batch of 100 files totalling at least 2 GiB through a real gateway process.

    .venv/bin/python bench/upload.py [--files 100] [--total-mib 2048]

Prints upload MB/s and the gateway's peak RSS, next to MinIO's own speed on this machine: the
same files put straight into MinIO by its Python client, one after the other, with the gateway's
part size. The client generates the files as it sends
them, so neither side holds a file in memory. Afterwards the batch is cancelled and its
objects removed, so no ingestor works on the benchmark's bytes.
"""

import argparse
import asyncio
import io
import sys
import threading
import time
from pathlib import Path
from uuid import UUID

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.native.services import ServiceProcess  # noqa: E402
from deploy.native.settings import DeploySettings  # noqa: E402
from docintake.contracts.events import BatchCancelled, BatchCancelledData  # noqa: E402
from docintake.platform.messaging import make_broker, publish  # noqa: E402
from docintake.platform.settings import Settings  # noqa: E402
from docintake.platform.storage import PART_SIZE, ObjectStore  # noqa: E402
from tests.support.http import free_port  # noqa: E402

BOUNDARY = "docintake-bench-boundary"
BLOCK = 1024 * 1024


def multipart_body(files: int, file_bytes: int):
    block = bytes(range(256)) * (BLOCK // 256)
    for index in range(files):
        yield (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"bench-{index}.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        remaining = file_bytes
        while remaining:
            piece = block[: min(BLOCK, remaining)]
            remaining -= len(piece)
            yield piece
        yield b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


class PeakRss:
    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()


class GeneratedFile(io.RawIOBase):
    """`size` bytes of the benchmark's pattern, read as a file, never held whole."""

    def __init__(self, size: int):
        self.remaining = size
        self.pattern = bytes(range(256)) * (PART_SIZE // 256)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        wanted = self.remaining if size < 0 else min(size, self.remaining)
        self.remaining -= wanted
        return (self.pattern * (wanted // len(self.pattern) + 1))[:wanted]


def straight_into_minio(settings: Settings, files: int, file_bytes: int) -> float:
    """Seconds to put the files into MinIO directly; the objects are removed afterwards."""
    store = ObjectStore(settings)
    keys = [f"bench/direct-{index}" for index in range(files)]
    started = time.perf_counter()
    for key in keys:
        store.client.put_object(store.bucket, key, GeneratedFile(file_bytes), length=-1, part_size=PART_SIZE)
    elapsed = time.perf_counter() - started
    asyncio.run(store.remove(keys))
    return elapsed


async def clean_up(settings: Settings, batch_id: str) -> None:
    broker = make_broker(settings.rabbitmq_url)
    await broker.connect()
    await publish(broker, BatchCancelled(batch_id=UUID(batch_id), data=BatchCancelledData(reason="benchmark")))
    await broker.stop()
    store = ObjectStore(settings)
    await store.remove(await store.keys(f"batches/{batch_id}/"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--total-mib", type=int, default=2048)
    args = parser.parse_args()
    settings = Settings()
    file_bytes = args.total_mib * BLOCK // args.files
    total = file_bytes * args.files
    port = free_port()
    gateway = ServiceProcess("gateway-bench", "docintake-gateway", DeploySettings().state_dir / "bench",
                             env={"DOCINTAKE_GATEWAY_PORT": str(port), "DOCINTAKE_LOG_LEVEL": "INFO"},
                             ready_url=f"http://127.0.0.1:{port}/readyz")
    gateway.start()
    try:
        idle_rss = psutil.Process(gateway.pid()).memory_info().rss
        with PeakRss(gateway.pid()) as rss:
            started = time.perf_counter()
            response = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/documents/ingest/batch",
                content=multipart_body(args.files, file_bytes),
                headers={"X-API-Key": settings.api_key_list[0],
                         "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                timeout=None,
            )
            elapsed = time.perf_counter() - started
        response.raise_for_status()
        batch_id = response.json()["batch_id"]
        mib = total / 2**20
        print(f"uploaded {args.files} files, {mib:.0f} MiB in {elapsed:.1f} s: {mib / elapsed:.1f} MiB/s")
        print(f"gateway RSS: idle {idle_rss / 2**20:.0f} MiB, peak {rss.peak / 2**20:.0f} MiB")
        asyncio.run(clean_up(settings, batch_id))
    finally:
        gateway.stop()
    direct = straight_into_minio(settings, args.files, file_bytes)
    print(f"MinIO directly (same files, one at a time): {total / 2**20 / direct:.1f} MiB/s; "
          f"the gateway reaches {direct / elapsed:.0%} of it")


if __name__ == "__main__":
    main()

"""The MinIO adapter: stream uploads in, stream objects out, remove what a failed batch left.

The minio client is synchronous; each call runs in a worker thread so the event loop stays free.
"""

import asyncio
import hashlib
import io
import itertools
import queue
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path

from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from docintake.contracts.settings import Settings

PART_SIZE = 8 * 1024 * 1024
_END = b""


class ObjectTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"object exceeds {limit} bytes")
        self.limit = limit


class ObjectMissing(Exception):
    pass


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


class _QueueReader(io.RawIOBase):
    """A file-like view of chunks handed over through a bounded queue (back-pressure for the uploader)."""

    def __init__(self, chunks: "queue.Queue[bytes | BaseException]"):
        self._chunks = chunks
        self._buffer = bytearray()
        self._eof = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            chunk = self._chunks.get()
            if isinstance(chunk, BaseException):
                raise chunk
            if chunk is _END:
                self._eof = True
            else:
                self._buffer += chunk
        size = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


class ObjectStore:
    def __init__(self, settings: Settings):
        self.bucket = settings.minio_bucket
        self.client = Minio(
            settings.minio_endpoint,
            access_key=settings.minio_access_key,
            secret_key=settings.minio_secret_key,
            secure=settings.minio_secure,
        )

    async def ensure_bucket(self) -> None:
        if not await asyncio.to_thread(self.client.bucket_exists, self.bucket):
            try:
                await asyncio.to_thread(self.client.make_bucket, self.bucket)
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(asyncio.to_thread(self.client.bucket_exists, self.bucket), timeout=3)
            return True
        except Exception:
            return False

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str,
        metadata: dict[str, str],
        max_bytes: int,
    ) -> StoredObject:
        """Stream chunks into one object, hashing as they pass; memory stays at about one part."""
        handover: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=64)
        upload = asyncio.create_task(
            asyncio.to_thread(
                self.client.put_object,
                self.bucket, key, _QueueReader(handover), length=-1, part_size=PART_SIZE,
                content_type=content_type, metadata=metadata,
            )
        )
        digest, size = hashlib.sha256(), 0

        async def hand_over(item: bytes | BaseException) -> None:
            while not upload.done():
                try:
                    handover.put_nowait(item)
                    return
                except queue.Full:
                    try:
                        await asyncio.to_thread(handover.put, item, True, 0.5)
                        return
                    except queue.Full:
                        continue

        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise ObjectTooLarge(max_bytes)
                digest.update(chunk)
                await hand_over(chunk)
                if upload.done():
                    break
            await hand_over(_END)
        except BaseException as exc:
            await hand_over(exc if isinstance(exc, Exception) else RuntimeError("upload aborted"))
            await asyncio.gather(upload, return_exceptions=True)
            await self.remove([key])
            raise
        await upload
        return StoredObject(key=key, size=size, sha256=digest.hexdigest())

    async def stat(self, key: str) -> dict[str, str]:
        try:
            info = await asyncio.to_thread(self.client.stat_object, self.bucket, key)
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise ObjectMissing(key) from exc
            raise
        return {"size": str(info.size), "content_type": info.content_type or "", **(info.metadata or {})}

    async def download(self, key: str, path: Path) -> int:
        """Stream an object to a local file; returns its size."""
        try:
            await asyncio.to_thread(self.client.fget_object, self.bucket, key, str(path))
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise ObjectMissing(key) from exc
            raise
        return path.stat().st_size

    async def get_bytes(self, key: str) -> bytes | None:
        def read() -> bytes | None:
            try:
                response = self.client.get_object(self.bucket, key)
            except S3Error as exc:
                if exc.code == "NoSuchKey":
                    return None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await asyncio.to_thread(read)

    async def put_bytes(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        await asyncio.to_thread(
            self.client.put_object, self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
        )

    async def remove(self, keys: list[str]) -> None:
        if not keys:
            return

        def delete() -> None:
            errors = self.client.remove_objects(self.bucket, [DeleteObject(key) for key in keys])
            for error in errors:  # the call is lazy: iterating performs it
                raise RuntimeError(f"could not remove {error.name}: {error.message}")

        await asyncio.to_thread(delete)

    async def keys(self, prefix: str, limit: int | None = None) -> list[str]:
        def listing() -> list[str]:
            objects = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            return [obj.object_name for obj in itertools.islice(objects, limit)]

        return await asyncio.to_thread(listing)


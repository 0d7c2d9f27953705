"""The MinIO adapter: stream uploads in, stream objects out, remove what a failed batch left.

The minio client is synchronous; each call runs in a worker thread so the event loop stays free.
Its errors leave as the project's: ObjectMissing, StorageUnavailable.
"""

import asyncio
import hashlib
import io
import itertools
import queue
from collections.abc import AsyncIterable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, TypeVar, cast

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule
from urllib3.exceptions import HTTPError as Urllib3Error

from docintake.platform.errors import ObjectMissing, ObjectTooLarge, StorageUnavailable
from docintake.platform.settings import Settings

PART_SIZE = 8 * 1024 * 1024
_END = b""
T = TypeVar("T")

__all__ = ["ObjectMissing", "ObjectStore", "ObjectTooLarge", "StorageUnavailable", "StoredObject", "Version"]


def _translated(call: Callable[[], T], missing: str | None = None) -> T:
    """Run a minio call; its errors become the project's (a missing `missing` key: ObjectMissing)."""
    try:
        return call()
    except S3Error as exc:
        if exc.code == "NoSuchKey" and missing is not None:
            raise ObjectMissing(missing) from exc
        raise StorageUnavailable(f"object storage refused the request: {exc.code}: {exc.message}") from exc
    except (MinioException, Urllib3Error, OSError) as exc:
        raise StorageUnavailable(f"object storage unavailable: {exc!r}") from exc


@dataclass(frozen=True)
class Version:
    """Which write of an object is there: its etag and when it was written."""

    etag: str
    written_at: datetime


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
        with memoryview(self._buffer) as buffered:
            data = bytes(buffered[:size])  # one copy of a part, not two
        del self._buffer[:size]
        return data


class ObjectStore:
    """One bucket. Short calls and streaming uploads run on thread pools of their own, so uploads
    that stall mid-file (a slow client) never hold up a status check, a download or a readiness probe."""

    def __init__(self, settings: Settings, *, call_threads: int = 16, upload_threads: int = 64):
        self.bucket = settings.minio_bucket
        self.client = Minio(
            settings.minio_endpoint,
            access_key=settings.minio_access_key,
            secret_key=settings.minio_secret_key,
            secure=settings.minio_secure,
        )
        # Conditional writes go through a presigned URL, the one way the minio client sends If-(None-)Match.
        self._conditional = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=30), retries=False, maxsize=call_threads)
        self._calls = ThreadPoolExecutor(call_threads, thread_name_prefix="storage-call")
        self._uploads = ThreadPoolExecutor(upload_threads, thread_name_prefix="storage-upload")

    async def _run(self, call: Callable[[], T], missing: str | None = None) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._calls, _translated, call, missing)

    def close(self) -> None:
        self._calls.shutdown(wait=False, cancel_futures=True)
        self._uploads.shutdown(wait=False, cancel_futures=True)

    async def ensure_bucket(self) -> None:
        if await self._run(lambda: self.client.bucket_exists(self.bucket)):
            return
        try:
            await asyncio.get_running_loop().run_in_executor(self._calls, self.client.make_bucket, self.bucket)
        except S3Error as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageUnavailable(f"could not create bucket {self.bucket}: {exc.code}") from exc

    async def expire(self, prefix: str, days: int) -> None:
        """Have MinIO delete the objects under `prefix` `days` after they were written (a rule of the
        bucket's lifecycle, named after the prefix; the bucket's other rules stay)."""
        await self._set_rule(Rule(ENABLED, rule_filter=Filter(prefix=prefix), rule_id=f"expire {prefix}",
                                  expiration=Expiration(days=days)))

    async def _set_rule(self, rule: Rule) -> None:
        def set_rule() -> None:
            current = self.client.get_bucket_lifecycle(self.bucket)
            others = [kept for kept in (current.rules if current else []) if kept.rule_id != rule.rule_id]
            self.client.set_bucket_lifecycle(self.bucket, LifecycleConfig([*others, rule]))

        await self._run(set_rule)

    async def lifecycle(self) -> dict[str, Rule]:
        """The bucket's lifecycle rules by name."""
        current = await self._run(lambda: self.client.get_bucket_lifecycle(self.bucket))
        return {str(rule.rule_id): rule for rule in (current.rules if current else [])}

    async def expiry_days(self, prefix: str) -> int | None:
        """The days after which MinIO deletes the objects under `prefix`; None if it keeps them."""
        rule = (await self.lifecycle()).get(f"expire {prefix}")
        return rule.expiration.days if rule is not None and rule.expiration is not None else None

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self._run(lambda: self.client.bucket_exists(self.bucket)), timeout=3)
            return True
        except (StorageUnavailable, TimeoutError):
            return False

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str,
        metadata: Mapping[str, str],
        max_bytes: int,
    ) -> StoredObject:
        """Stream chunks into one object, hashing as they pass; memory stays at about one part."""
        handover: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=64)
        loop = asyncio.get_running_loop()
        reader = cast(BinaryIO, _QueueReader(handover))
        headers = cast(dict[str, str | list[str] | tuple[str]], dict(metadata))
        upload = loop.run_in_executor(self._uploads, _translated, lambda: self.client.put_object(
            self.bucket, key, reader, length=-1, part_size=PART_SIZE, content_type=content_type, metadata=headers,
        ), None)
        digest, size = hashlib.sha256(), 0

        async def hand_over(item: bytes | BaseException) -> None:
            while not upload.done():
                try:
                    handover.put_nowait(item)
                    return
                except queue.Full:
                    await asyncio.sleep(0.005)  # the upload thread drains a part at a time

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
        info = await self._run(lambda: self.client.stat_object(self.bucket, key), missing=key)
        return {"size": str(info.size), "content_type": info.content_type or "", **(info.metadata or {})}

    async def download(self, key: str, path: Path) -> int:
        """Stream an object to a local file; returns its size."""
        await self._run(lambda: self.client.fget_object(self.bucket, key, str(path)), missing=key)
        return path.stat().st_size

    async def get_bytes(self, key: str) -> bytes | None:
        def read() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        try:
            return await self._run(read, missing=key)
        except ObjectMissing:
            return None

    async def put_bytes(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        await self._run(lambda: self.client.put_object(
            self.bucket, key, io.BytesIO(data), len(data), content_type=content_type))

    async def create(self, key: str, data: bytes) -> bool:
        """Write the object only if there is none under `key`; False when there is."""
        return await self._run(lambda: self._put_on_condition(key, data, {"If-None-Match": "*"}))

    async def replace(self, key: str, data: bytes, version: Version) -> bool:
        """Write the object only if it is still at `version`; False when another write came first."""
        return await self._run(lambda: self._put_on_condition(key, data, {"If-Match": version.etag}))

    def _put_on_condition(self, key: str, data: bytes, condition: dict[str, str]) -> bool:
        url = self.client.presigned_put_object(self.bucket, key, expires=timedelta(minutes=1))
        response = self._conditional.request("PUT", url, body=data, headers=condition)
        if response.status in (412, 409):  # the condition failed, or a concurrent write of the key won
            return False
        if response.status != 200:
            raise StorageUnavailable(f"object storage refused a conditional write: HTTP {response.status}")
        return True

    async def version(self, key: str) -> Version | None:
        try:
            info = await self._run(lambda: self.client.stat_object(self.bucket, key), missing=key)
        except ObjectMissing:
            return None
        assert info.etag is not None and info.last_modified is not None, "MinIO states both of every object"
        return Version(etag=info.etag, written_at=info.last_modified)

    async def remove(self, keys: list[str]) -> None:
        if not keys:
            return

        def delete() -> None:
            errors = self.client.remove_objects(self.bucket, [DeleteObject(key) for key in keys])
            for error in errors:  # the call is lazy: iterating performs it
                raise StorageUnavailable(f"could not remove {error.name}: {error.message}")

        await self._run(delete)

    async def folders(self, prefix: str) -> list[str]:
        """The names one level below `prefix` that hold objects, each ending in '/'."""
        def listing() -> list[str]:
            objects = self.client.list_objects(self.bucket, prefix=prefix, recursive=False)
            return [str(obj.object_name) for obj in objects if obj.is_dir]

        return await self._run(listing)

    async def written(self, prefix: str) -> dict[str, datetime]:
        """Every object under `prefix`, with when it was written."""
        def listing() -> dict[str, datetime]:
            objects = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            return {str(obj.object_name): obj.last_modified for obj in objects if obj.last_modified is not None}

        return await self._run(listing)

    async def keys(self, prefix: str, limit: int | None = None) -> list[str]:
        def listing() -> list[str]:
            objects = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            return [str(obj.object_name) for obj in itertools.islice(objects, limit)]

        return await self._run(listing)

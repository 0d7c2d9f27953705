"""What the use cases need from the world outside, as the adapters provide it."""

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from docintake.contracts.api import PendingBytes
from docintake.contracts.events import Event
from docintake.gateway.domain.answers import Answer

Publish = Callable[[list[Event]], Awaitable[None]]


class Part(Protocol):
    """One part of a multipart body, read as it streams in."""

    @property
    def name(self) -> str: ...

    @property
    def filename(self) -> str | None: ...

    @property
    def content_type(self) -> str: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def read(self, limit: int) -> bytes: ...

    async def discard(self) -> int: ...


class Stored(Protocol):
    @property
    def size(self) -> int: ...

    @property
    def sha256(self) -> str: ...


class UploadStore(Protocol):
    """Where uploaded documents go (raises docintake.platform.errors.ObjectTooLarge past max_bytes)."""

    bucket: str

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], *, content_type: str,
                         metadata: dict[str, str], max_bytes: int) -> Stored: ...

    async def remove(self, keys: list[str]) -> None: ...

    async def put_bytes(self, key: str, data: bytes, content_type: str = "application/json") -> None: ...


class Announcements(Protocol):
    async def get_bytes(self, key: str) -> bytes | None: ...


class UploadedObjects(Announcements, Protocol):
    """What the uploads bucket holds: its batches' folders, the objects in them, their markers."""

    async def folders(self, prefix: str) -> list[str]: ...

    async def written(self, prefix: str) -> dict[str, datetime]: ...

    async def remove(self, keys: list[str]) -> None: ...


# When a batch the status service keeps no record of finished: long ago (a record is forgotten only
# after its batch finished, and its retention passed).
FORGOTTEN = datetime.min.replace(tzinfo=UTC)


class BatchFinishes(Protocol):
    async def finished_at(self, batch_id: UUID) -> datetime | None:
        """When the batch finished (FORGOTTEN if unknown); None while it runs (raises StatusServiceUnavailable)."""
        ...


class PendingSource(Protocol):
    """The bytes accepted but not yet ingested, in all and of the tenant, with what the tenant uploaded
    today, across every gateway (raises StatusServiceUnavailable)."""

    async def pending(self, tenant: str) -> PendingBytes: ...


class AnswerStore(Protocol):
    """The answers to Idempotency-Keys, and the claims of keys being answered, shared by every gateway."""

    async def get(self, api_key: str, idempotency_key: str) -> Answer | None: ...

    async def put(self, api_key: str, idempotency_key: str, answer: Answer) -> None: ...

    async def claim(self, api_key: str, idempotency_key: str) -> bool: ...

    async def release(self, api_key: str, idempotency_key: str) -> None: ...


class Upstream(Protocol):
    """A response of the status service, still open."""

    @property
    def status_code(self) -> int: ...

    async def aclose(self) -> None: ...

"""Why the gateway refuses a request: each refusal says what went wrong in words a client can act on."""

from uuid import UUID


class Refusal(Exception):
    """A request the gateway will not carry out; `retry_after` seconds when trying again later may succeed."""

    retry_after: int | None = None

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NoFiles(Refusal):
    def __init__(self) -> None:
        super().__init__("No files were uploaded; send them in the multipart field 'files'")


class BatchTooLarge(Refusal):
    def __init__(self, max_files: int, uploaded: int):
        super().__init__(f"Batch exceeds maximum size of {max_files} files. Uploaded: {uploaded} files")


class FileTooLarge(Refusal):
    def __init__(self, filename: str, max_bytes: int):
        super().__init__(f"File '{filename}' exceeds the maximum size of {max_bytes} bytes")


class InvalidMetadataMapping(Refusal):
    """The metadata mapping could not be parsed; the message names the line, column or key."""


class InvalidCollection(Refusal):
    """The collection is not a valid name, or is named twice, differently."""


class InvalidSourcePath(Refusal):
    def __init__(self, filename: str, max_length: int):
        super().__init__(f"The path of file '{filename}' exceeds {max_length} characters")


class InvalidMultipart(Refusal):
    """The body is not a well-formed multipart/form-data body."""


class UploadTimedOut(Refusal):
    def __init__(self, idle_seconds: float):
        super().__init__(f"The upload sent nothing for {idle_seconds:g} s and was cut off; nothing was kept")


class IdempotencyKeyInFlight(Refusal):
    """A request with this Idempotency-Key is still being answered; its answer is replayed once it is done."""

    retry_after = 1

    def __init__(self) -> None:
        super().__init__("A request with this Idempotency-Key is still in progress; retry shortly for its answer")


class TooManyStreams(Refusal):
    retry_after = 5

    def __init__(self, limit: int, scope: str):
        super().__init__(f"At most {limit} live progress streams are open {scope}; close one or poll the status")


class BacklogFull(Refusal):
    def __init__(self, pending_bytes: int, pending_documents: int, max_pending_bytes: int, retry_after: int,
                 of_tenant: bool = False):
        whose = "of this tenant's " if of_tenant else ""
        limit = "this tenant's share of the backlog" if of_tenant else "limit"
        super().__init__(f"{pending_bytes} bytes in {pending_documents} {whose}documents are waiting for ingestion "
                         f"({limit} {max_pending_bytes}); retry later")
        self.retry_after = retry_after


class UploadQuotaExceeded(Refusal):
    def __init__(self, uploaded_bytes: int, quota_bytes: int, retry_after: int):
        super().__init__(f"This tenant uploaded {uploaded_bytes} bytes today (UTC), its quota is {quota_bytes} "
                         f"bytes a day; retry after midnight UTC")
        self.retry_after = retry_after


class RateLimited(Refusal):
    def __init__(self, tenant: str, rate: float, retry_after: int):
        super().__init__(f"Too many requests: this tenant may make {rate:g} a second; retry in {retry_after} s")
        self.retry_after = retry_after


class UploadFailed(Refusal):
    """Storage or the broker failed mid-upload; nothing of the batch was kept."""

    retry_after = 10

    def __init__(self) -> None:
        super().__init__("Storage or message broker unavailable; nothing was kept, retry later")


class StatusServiceUnavailable(Refusal):
    def __init__(self) -> None:
        super().__init__("The status service is unavailable; retry later")


class BatchNotFound(Refusal):
    def __init__(self, batch_id: UUID | str):
        super().__init__(f"No batch with id {batch_id}")


class BatchNotProjected(Refusal):
    """A batch a gateway announced whose progress the status service has not recorded yet."""

    retry_after = 2

    def __init__(self, batch_id: UUID, stored_documents: int):
        super().__init__(f"Batch {batch_id} was accepted but its progress is not recorded yet; retry shortly")
        self.batch_id = batch_id
        self.stored_documents = stored_documents


class InvalidDeletion(Refusal):
    """A deletion that names nothing to delete, or names it in a way that cannot be read."""


class SourceNotFound(Refusal):
    def __init__(self, collection: str, paths: list[str]):
        shown = ", ".join(f"'{path}'" for path in paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        super().__init__(f"Collection '{collection}' has no source {shown}; nothing was deleted")


class CollectionNotFound(Refusal):
    def __init__(self, collection: str):
        super().__init__(f"No collection '{collection}' (it has no source); nothing was deleted")


class BatchHasNoSources(Refusal):
    def __init__(self, batch_id: UUID):
        super().__init__(f"No source's current version was written by batch {batch_id} (an unknown batch, or one "
                         "whose documents are deleted or replaced already); nothing was deleted")


class GraphUnavailable(Refusal):
    retry_after = 10

    def __init__(self, message: str = "The knowledge graph is unavailable; nothing was deleted, retry later"):
        super().__init__(message)


class DeletionNotFound(Refusal):
    def __init__(self, deletion_id: UUID | str):
        super().__init__(f"No deletion with id {deletion_id}")


class InvalidSync(Refusal):
    """A sync list that cannot be read, is too long, or names a path badly or twice."""


class SyncListTooLarge(Refusal):
    def __init__(self, max_bytes: int):
        super().__init__(f"The sync list exceeds {max_bytes} bytes; split it by folder or sync in parts")


class InvalidCallbackUrl(Refusal):
    """A batch's callback_url the services may not call, or one its tenant has no secret to sign for."""

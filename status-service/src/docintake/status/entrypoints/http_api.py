"""The status service's HTTP API under /api/v1: batch status, list, live stream, cancel, retry, pending bytes."""

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from docintake.contracts.api import BatchPage, BatchState, BatchStatus, ErrorBody, PendingBytes
from docintake.platform.errors import GraphRefused, GraphUnavailable
from docintake.platform.logging import get_logger
from docintake.platform.web import BatchId, api_key_guard, error_response
from docintake.status.bootstrap import Dependencies
from docintake.status.domain import views
from docintake.status.domain.refusals import (
    BatchAlreadyFinished,
    BatchIsCancelled,
    BatchNotFound,
    EventNotPublished,
    InvalidCursor,
    NothingToRetry,
    UnreadableRecord,
)
from docintake.status.entrypoints.live_progress import progress_events
from docintake.status.service_layer import commands, process_manager, queries, webhooks
from docintake.status.settings import StatusSettings

log = get_logger(__name__)

BATCH = "/documents/ingest/batch/{batch_id}"


@dataclass(frozen=True)
class Answer:
    """How a refusal reaches the client; `message` None says the refusal's own words."""

    status: int
    code: str
    message: str | None = None
    headers: dict[str, str] | None = None
    log_level: str | None = None


ANSWERS: dict[type[Exception], Answer] = {
    BatchNotFound: Answer(404, "BATCH_NOT_FOUND"),
    BatchAlreadyFinished: Answer(409, "BATCH_ALREADY_FINISHED"),
    NothingToRetry: Answer(409, "NOTHING_TO_RETRY"),
    BatchIsCancelled: Answer(409, "BATCH_CANCELLED"),
    UnreadableRecord: Answer(409, "BATCH_RECORD_QUARANTINED", log_level="warning"),
    InvalidCursor: Answer(400, "INVALID_CURSOR"),
    EventNotPublished: Answer(503, "BROKER_UNAVAILABLE", "The event broker did not accept the change; retry later",
                              log_level="warning"),
    GraphUnavailable: Answer(503, "STORE_UNAVAILABLE", "Batch progress is unavailable right now; retry later",
                             {"Retry-After": "1"}, log_level="warning"),
    GraphRefused: Answer(500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged",
                         log_level="error"),
}
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (400, 401, 404, 409, 503)}


async def _dependencies(request: Request) -> Dependencies:
    return request.app.state.dependencies


Running = Annotated[Dependencies, Depends(_dependencies)]
router = APIRouter()


async def shared_status(batch_id: UUID, dependencies: Dependencies) -> tuple[BatchStatus, bytes]:
    """The batch's status and its JSON, made at most once per interval however many clients ask."""
    async def read() -> tuple[BatchStatus, bytes]:
        status = await queries.batch_status(batch_id, dependencies.repo, dependencies.clock)
        status.webhooks = await webhooks.deliveries_of(batch_id, dependencies.webhooks.store)
        return status, status.model_dump_json().encode()

    return await dependencies.status_reads.get(("status", batch_id), read)


@router.get(BATCH + "/status", response_model=BatchStatus)
async def get_batch_status(batch_id: BatchId, dependencies: Running) -> Response:
    _, rendered = await shared_status(batch_id, dependencies)
    return Response(rendered, media_type="application/json")


@router.get("/documents/ingest/batches")
async def list_batches(
    dependencies: Running,
    status: BatchState | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> BatchPage:
    return await queries.list_batches(dependencies.repo, dependencies.clock, status, limit, cursor)


@router.get(BATCH + "/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream_batch_progress(batch_id: BatchId, dependencies: Running) -> StreamingResponse:
    await shared_status(batch_id, dependencies)  # 404 before the stream starts
    return StreamingResponse(
        progress_events(lambda: shared_status(batch_id, dependencies), dependencies.settings.stream_poll_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post(BATCH + "/cancel")
async def cancel_batch(batch_id: BatchId, dependencies: Running) -> BatchStatus:
    batch = await commands.cancel_batch(batch_id, dependencies.repo, dependencies.clock, dependencies.publish,
                                         dependencies.batch_locks)
    dependencies.status_reads.forget(("status", batch_id))
    return views.batch_status(batch, dependencies.clock())


@router.post(BATCH + "/retry")
async def retry_failed_documents(batch_id: BatchId, dependencies: Running) -> BatchStatus:
    try:
        batch = await commands.retry_failed_documents(batch_id, dependencies.repo, dependencies.clock,
                                                      dependencies.publish, dependencies.batch_locks)
    finally:  # also when only some of the DocumentQueued were confirmed: those come back through the queue
        dependencies.status_reads.forget(("status", batch_id))
    return views.batch_status(batch, dependencies.clock())


@router.get("/internal/pending")
async def pending_bytes(dependencies: Running) -> PendingBytes:
    return await process_manager.pending_bytes(dependencies.repo)


def install(app: FastAPI, settings: StatusSettings) -> None:
    """The routes behind the API key, and the one table from refusals to answers."""
    app.include_router(router, prefix="/api/v1", responses=ERROR_RESPONSES,
                       dependencies=[Depends(api_key_guard(lambda: settings.api_key_list))])

    async def answer(_: Request, exc: Exception) -> JSONResponse:
        found = next(answer for refusal, answer in ANSWERS.items() if isinstance(exc, refusal))
        if found.log_level == "error":
            log.error("progress store refused", exc_info=exc)
        elif found.log_level == "warning":
            log.warning("request not served", error=str(exc), code=found.code)
        return error_response(found.status, found.code, found.message or str(exc), found.headers)

    for refusal in ANSWERS:
        app.add_exception_handler(refusal, answer)

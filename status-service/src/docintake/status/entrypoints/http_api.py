"""The status service's HTTP API under /api/v1: batch status, list, live stream, cancel, retry, pending bytes."""

import hmac
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Security
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import APIKeyHeader

from docintake.contracts.api import BatchFinish, BatchPage, BatchState, BatchStatus, ErrorBody, PendingBytes
from docintake.platform.errors import GraphRefused, GraphUnavailable
from docintake.platform.logging import get_logger
from docintake.platform.tenants import KeyRing, Principal
from docintake.platform.web import ApiError, BatchId, error_response
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
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


async def require_caller(request: Request,
                         api_key: Annotated[str | None, Security(_api_key_header)] = None) -> Principal:
    """The tenant of the request's key in force (401 otherwise)."""
    principal = request.app.state.keys.identify(api_key)
    if principal is None:
        raise ApiError(401, "UNAUTHORIZED", "Missing or invalid X-API-Key header")
    return principal


async def require_service(request: Request, api_key: Annotated[str | None, Security(_api_key_header)] = None) -> None:
    """The internal routes answer the services' own key, and an admin's."""
    service_key = request.app.state.service_key
    if service_key and hmac.compare_digest((api_key or "").encode(), service_key.encode()):
        return
    principal = request.app.state.keys.identify(api_key)
    if principal is None or not principal.admin:
        raise ApiError(401, "UNAUTHORIZED", "Missing or invalid X-API-Key header")


Caller = Annotated[Principal, Depends(require_caller)]
router = APIRouter(dependencies=[Depends(require_caller)])
internal = APIRouter(prefix="/internal", dependencies=[Depends(require_service)])


async def shared_status(batch_id: UUID, dependencies: Dependencies, caller: Principal) -> tuple[BatchStatus, bytes]:
    """The batch's status and its JSON, made at most once per interval however many clients ask; another
    tenant's batch is not found."""
    async def read() -> tuple[BatchStatus, bytes]:
        status = await queries.batch_status(batch_id, dependencies.repo, dependencies.clock)
        status.webhooks = await webhooks.deliveries_of(batch_id, dependencies.webhooks.store)
        return status, status.model_dump_json().encode()

    status, rendered = await dependencies.status_reads.get(("status", batch_id), read)
    if not caller.sees(status.tenant):
        raise BatchNotFound(batch_id)
    return status, rendered


@router.get(BATCH + "/status", response_model=BatchStatus)
async def get_batch_status(batch_id: BatchId, dependencies: Running, caller: Caller) -> Response:
    _, rendered = await shared_status(batch_id, dependencies, caller)
    return Response(rendered, media_type="application/json")


@router.get("/documents/ingest/batches")
async def list_batches(
    dependencies: Running,
    caller: Caller,
    status: BatchState | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> BatchPage:
    return await queries.list_batches(dependencies.repo, dependencies.clock, status, limit, cursor, caller)


@router.get(BATCH + "/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream_batch_progress(batch_id: BatchId, dependencies: Running, caller: Caller) -> StreamingResponse:
    await shared_status(batch_id, dependencies, caller)  # 404 before the stream starts
    return StreamingResponse(
        progress_events(lambda: shared_status(batch_id, dependencies, caller),
                        dependencies.settings.stream_poll_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post(BATCH + "/cancel")
async def cancel_batch(batch_id: BatchId, dependencies: Running, caller: Caller) -> BatchStatus:
    batch = await commands.cancel_batch(batch_id, dependencies.repo, dependencies.clock, dependencies.publish,
                                         dependencies.batch_locks, caller)
    dependencies.status_reads.forget(("status", batch_id))
    return views.batch_status(batch, dependencies.clock())


@router.post(BATCH + "/retry")
async def retry_failed_documents(batch_id: BatchId, dependencies: Running, caller: Caller) -> BatchStatus:
    try:
        batch = await commands.retry_failed_documents(batch_id, dependencies.repo, dependencies.clock,
                                                      dependencies.publish, dependencies.batch_locks, caller)
    finally:  # also when only some of the DocumentQueued were confirmed: those come back through the queue
        dependencies.status_reads.forget(("status", batch_id))
    return views.batch_status(batch, dependencies.clock())


@internal.get("/pending")
async def pending_bytes(dependencies: Running, tenant: str | None = None) -> PendingBytes:
    return await process_manager.pending_bytes(dependencies.repo, tenant)


@internal.get("/batches/{batch_id}/finished")
async def batch_finish(batch_id: BatchId, dependencies: Running) -> BatchFinish:
    batch = await queries.existing_batch(batch_id, dependencies.repo, queries.ADMIN)
    return BatchFinish(batch_id=batch_id, finished_at=batch.completed_at)


def install(app: FastAPI, settings: StatusSettings) -> None:
    """The routes behind the API key, and the one table from refusals to answers."""
    app.state.keys = KeyRing.from_settings(settings.tenants_file, settings.api_key_list)
    app.state.service_key = settings.internal_key
    app.include_router(router, prefix="/api/v1", responses=ERROR_RESPONSES)
    app.include_router(internal, prefix="/api/v1", responses=ERROR_RESPONSES)

    async def answer(_: Request, exc: Exception) -> JSONResponse:
        found = next(answer for refusal, answer in ANSWERS.items() if isinstance(exc, refusal))
        if found.log_level == "error":
            log.error("progress store refused", exc_info=exc)
        elif found.log_level == "warning":
            log.warning("request not served", error=str(exc), code=found.code)
        return error_response(found.status, found.code, found.message or str(exc), found.headers)

    for refusal in ANSWERS:
        app.add_exception_handler(refusal, answer)

"""The status service's HTTP API under /api/v1: batch status, list, live stream, cancel, retry, pending bytes."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from neo4j.exceptions import DriverError, Neo4jError

from docintake.contracts.api import BatchPage, BatchState, BatchStatus, ErrorBody, PendingBytes
from docintake.contracts.logging import get_logger
from docintake.contracts.web import ApiError, api_key_guard, error_response
from docintake.status import services, views
from docintake.status.domain import BatchAlreadyFinished, BatchIsCancelled, BatchRefusal, NothingToRetry
from docintake.status.live import progress_events
from docintake.status.repository import BatchNotFound, is_transient
from docintake.status.runtime import Runtime
from docintake.status.settings import StatusSettings

log = get_logger(__name__)

BATCH = "/documents/ingest/batch/{batch_id}"
REFUSAL_CODES: dict[type[BatchRefusal], str] = {
    BatchAlreadyFinished: "BATCH_ALREADY_FINISHED",
    NothingToRetry: "NOTHING_TO_RETRY",
    BatchIsCancelled: "BATCH_CANCELLED",
}
ERROR_RESPONSES = {status: {"model": ErrorBody} for status in (401, 404, 409, 503)}


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _batch_id(batch_id: str) -> UUID:
    """Any batch id that is not a UUID is simply not a batch this service knows."""
    try:
        return UUID(batch_id)
    except ValueError:
        raise BatchNotFound(batch_id) from None


CurrentRuntime = Annotated[Runtime, Depends(_runtime)]
BatchId = Annotated[UUID, Depends(_batch_id)]


def api_router(settings: StatusSettings) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1",
        dependencies=[Depends(api_key_guard(lambda: settings.api_key_list))],
        responses=ERROR_RESPONSES,
    )

    @router.get(BATCH + "/status")
    async def get_batch_status(batch_id: BatchId, runtime: CurrentRuntime) -> BatchStatus:
        return await services.batch_status(batch_id, runtime.reads, runtime.clock)

    @router.get("/documents/ingest/batches")
    async def list_batches(
        runtime: CurrentRuntime,
        status: BatchState | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: str | None = None,
    ) -> BatchPage:
        try:
            return await services.list_batches(runtime.repo, runtime.clock, status, limit, cursor)
        except ValueError as exc:
            raise ApiError(400, "INVALID_CURSOR", str(exc)) from exc

    @router.get(BATCH + "/events", response_class=StreamingResponse,
                responses={200: {"content": {"text/event-stream": {}}}})
    async def stream_batch_progress(batch_id: BatchId, runtime: CurrentRuntime) -> StreamingResponse:
        await services.batch_status(batch_id, runtime.reads, runtime.clock)  # 404 before the stream starts
        return StreamingResponse(
            progress_events(batch_id, runtime.reads, runtime.clock, runtime.settings.stream_poll_seconds),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.post(BATCH + "/cancel")
    async def cancel_batch(batch_id: BatchId, runtime: CurrentRuntime) -> BatchStatus:
        batch = await services.cancel_batch(batch_id, runtime.repo, runtime.clock, runtime.publish)
        runtime.reads.forget(batch_id)
        return views.batch_status(batch, runtime.clock())

    @router.post(BATCH + "/retry")
    async def retry_failed_documents(batch_id: BatchId, runtime: CurrentRuntime) -> BatchStatus:
        batch = await services.retry_failed_documents(batch_id, runtime.repo, runtime.clock, runtime.publish)
        runtime.reads.forget(batch_id)
        return views.batch_status(batch, runtime.clock())

    @router.get("/internal/pending")
    async def pending_bytes(runtime: CurrentRuntime) -> PendingBytes:
        return await services.pending_bytes(runtime.repo)

    return router


def install_status_error_handlers(app: FastAPI) -> None:
    """The service's own errors in the shared envelope (installed next to the shared handlers)."""

    @app.exception_handler(BatchNotFound)
    async def _not_found(_: Request, exc: BatchNotFound) -> JSONResponse:
        return error_response(404, "BATCH_NOT_FOUND", str(exc))

    @app.exception_handler(BatchRefusal)
    async def _refused(_: Request, exc: BatchRefusal) -> JSONResponse:
        return error_response(409, REFUSAL_CODES[type(exc)], str(exc))

    @app.exception_handler(services.EventNotPublished)
    async def _not_published(_: Request, exc: services.EventNotPublished) -> JSONResponse:
        log.warning("command failed: event not published", error=str(exc))
        return error_response(503, "BROKER_UNAVAILABLE", "The event broker did not accept the change; retry later")

    async def _store_error(_: Request, exc: Exception) -> JSONResponse:
        if not is_transient(exc):
            log.error("progress store error", exc_info=exc)
            return error_response(500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged")
        log.warning("progress store unavailable", error=repr(exc))
        return error_response(503, "STORE_UNAVAILABLE", "Batch progress is unavailable right now; retry later",
                              {"Retry-After": "1"})

    app.add_exception_handler(Neo4jError, _store_error)
    app.add_exception_handler(DriverError, _store_error)

"""The status service's HTTP API under /api/v1: batch status, list, live stream, cancel, retry, pending bytes."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from neo4j.exceptions import DriverError, Neo4jError

from docintake.contracts.api import BatchPage, BatchState, BatchStatus, ErrorBody, PendingBytes
from docintake.platform.graphdb import is_transient
from docintake.platform.logging import get_logger
from docintake.platform.web import ApiError, api_key_guard, error_response
from docintake.status import services, views
from docintake.status.domain import BatchAlreadyFinished, BatchIsCancelled, BatchRefusal, NothingToRetry
from docintake.status.live import progress_events
from docintake.status.repository import BatchNotFound
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


async def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def _batch_id(batch_id: str) -> UUID:
    """Any batch id that is not a UUID is simply not a batch this service knows."""
    try:
        return UUID(batch_id)
    except ValueError:
        raise BatchNotFound(batch_id) from None


CurrentRuntime = Annotated[Runtime, Depends(_runtime)]
BatchId = Annotated[UUID, Depends(_batch_id)]


async def shared_status(batch_id: UUID, runtime: Runtime) -> tuple[BatchStatus, bytes]:
    """The batch's status and its JSON, made at most once per interval however many clients ask."""
    async def read() -> tuple[BatchStatus, bytes]:
        status = await services.batch_status(batch_id, runtime.repo, runtime.clock)
        return status, status.model_dump_json().encode()

    return await runtime.shared_reads.get(("status", batch_id), read)


def api_router(settings: StatusSettings) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1",
        dependencies=[Depends(api_key_guard(lambda: settings.api_key_list))],
        responses=ERROR_RESPONSES,
    )

    @router.get(BATCH + "/status", response_model=BatchStatus)
    async def get_batch_status(batch_id: BatchId, runtime: CurrentRuntime) -> Response:
        _, rendered = await shared_status(batch_id, runtime)
        return Response(rendered, media_type="application/json")

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
        await shared_status(batch_id, runtime)  # 404 before the stream starts
        return StreamingResponse(
            progress_events(lambda: shared_status(batch_id, runtime), runtime.settings.stream_poll_seconds),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.post(BATCH + "/cancel")
    async def cancel_batch(batch_id: BatchId, runtime: CurrentRuntime) -> BatchStatus:
        batch = await services.cancel_batch(batch_id, runtime.repo, runtime.clock, runtime.publish)
        runtime.shared_reads.forget(("status", batch_id))
        return views.batch_status(batch, runtime.clock())

    @router.post(BATCH + "/retry")
    async def retry_failed_documents(batch_id: BatchId, runtime: CurrentRuntime) -> BatchStatus:
        try:
            batch = await services.retry_failed_documents(batch_id, runtime.repo, runtime.clock, runtime.publish)
        finally:  # also when the broker refused: the documents then failed again
            runtime.shared_reads.forget(("status", batch_id))
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

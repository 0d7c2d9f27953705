"""The gateway's HTTP application: the one public base URL of docintake."""

import asyncio
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated
from uuid import UUID

import httpx
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.background import BackgroundTask

from docintake.contracts.api import BatchAccepted, BatchPage, BatchStatus, ErrorBody
from docintake.gateway import metrics
from docintake.gateway.admission import AdmissionControl
from docintake.gateway.batches import accept_batch
from docintake.gateway.idempotency import IdempotencyStore
from docintake.gateway.multipart import MalformedMultipart, MultipartReader, boundary_of
from docintake.gateway.settings import GatewaySettings
from docintake.platform.logging import get_logger
from docintake.platform.messaging import declare_topology, make_broker, publish_all
from docintake.platform.storage import ObjectStore
from docintake.platform.web import ApiError, api_key_guard, error_response, install_error_handlers

log = get_logger(__name__)

INGEST = "/api/v1/documents/ingest"
ERRORS = {status: {"model": ErrorBody} for status in (400, 401, 404, 413, 503)}
PROJECTION_GRACE_SECONDS = 5.0
UPLOAD_PAGE = (Path(__file__).parent / "static" / "index.html").read_text()
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


async def known_batch_id(batch_id: str) -> UUID:
    """A batch id that is not even a UUID names no batch: 404, as for any unknown batch."""
    try:
        return UUID(batch_id)
    except ValueError:
        raise ApiError(404, "BATCH_NOT_FOUND", f"No batch with id {batch_id}") from None


BatchId = Annotated[UUID, Depends(known_batch_id)]


def multipart_boundary(content_type: str | None) -> bytes:
    try:
        return boundary_of(content_type)
    except MalformedMultipart as exc:
        raise ApiError(400, "INVALID_MULTIPART", str(exc)) from None


def not_projected_yet(batch_id: UUID, stored: int) -> Response:
    return error_response(503, "BATCH_NOT_READY", f"Batch {batch_id} was accepted but its progress is not "
                          "recorded yet; retry shortly", {"Retry-After": "2"})


def nothing_finished_yet(batch_id: UUID, stored: int) -> Response:
    """The status of an accepted batch whose progress is not recorded yet: all its documents pending."""
    status = BatchStatus(batch_id=batch_id, status="in_progress", total_documents=stored, processed_count=0,
                         failed_count=0, pending_count=stored)
    return JSONResponse(status.model_dump(mode="json"))


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    broker = make_broker(settings.rabbitmq_url)
    store = ObjectStore(settings)
    idempotency = IdempotencyStore(store)
    # Forwarded requests carry the client's own key; only admission control asks with the gateway's.
    status_client = httpx.AsyncClient(base_url=settings.status_url, timeout=httpx.Timeout(10.0, read=None))
    admission = AdmissionControl(status_client, (settings.api_key_list or [""])[0], settings.max_pending_bytes,
                                 settings.backlog_retry_after_seconds)
    require_api_key = api_key_guard(lambda: settings.api_key_list)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await broker.connect()
        await declare_topology(broker)
        await store.ensure_bucket()
        log.info("ready", port=settings.gateway_port, bucket=store.bucket)
        yield
        await status_client.aclose()
        await broker.stop()
        log.info("stopped")

    app = FastAPI(
        title="docintake",
        summary="Batch document ingestion for knowledge bases",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)

    async def publish_events(events) -> None:
        await publish_all(broker, events)

    @app.post(
        f"{INGEST}/batch",
        status_code=202,
        response_model=BatchAccepted,
        responses=ERRORS,
        summary="Upload up to 100 documents, with an optional CSV or JSON metadata mapping",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["files"],
                            "properties": {
                                "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                "metadata_mapping": {"type": "string", "format": "binary"},
                            },
                        }
                    }
                },
            }
        },
    )
    async def ingest_batch(
        request: Request,
        api_key: Annotated[str, Depends(require_api_key)],
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    ) -> JSONResponse:
        started = time.perf_counter()
        if idempotency_key:
            answer = await idempotency.recall(api_key, idempotency_key)
            if answer is not None:
                status, body = answer
                return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
        try:
            boundary = multipart_boundary(request.headers.get("content-type"))
            await admission.admit()
            accepted = await accept_batch(
                MultipartReader(request.stream(), boundary).parts(), store, publish_events, settings
            )
        except ApiError as exc:
            metrics.BATCHES.labels(exc.code).inc()
            if idempotency_key and exc.status < 500:
                await idempotency.remember(api_key, idempotency_key, exc.status, exc.body())
            raise
        body = accepted.model_dump(mode="json")
        if idempotency_key:
            await idempotency.remember(api_key, idempotency_key, 202, body)
        metrics.BATCHES.labels("accepted").inc()
        metrics.DOCUMENTS.inc(accepted.total_documents)
        metrics.UPLOAD_SECONDS.observe(time.perf_counter() - started)
        return JSONResponse(body, status_code=202)

    # Served by the status service; the key is checked here too, so a client is refused even while it is away.
    status_routes = APIRouter(dependencies=[Depends(require_api_key)])

    async def forward(request: Request, path: str, batch_id: UUID | None = None, *,
                      grace_seconds: float = PROJECTION_GRACE_SECONDS, unprojected=not_projected_yet) -> Response:
        """Serve a status route by forwarding it to the status service (streams pass through).

        A batch this gateway has stored but the status service has not projected yet (it may be
        working through a backlog of events) is waited for a while, then answered by `unprojected`.
        """
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.body()
        deadline = time.monotonic() + grace_seconds
        while True:
            upstream = status_client.build_request(
                request.method, path, params=request.query_params, headers=headers, content=body
            )
            try:
                response = await status_client.send(upstream, stream=True)
            except httpx.HTTPError:
                return error_response(503, "SERVICE_UNAVAILABLE", "The status service is unavailable; retry later")
            if response.status_code != 404 or batch_id is None:
                break
            await response.aclose()
            documents = f"batches/{batch_id}/"
            if not await store.keys(documents, limit=1):
                return error_response(404, "BATCH_NOT_FOUND", f"No batch with id {batch_id}")
            if time.monotonic() > deadline:
                return unprojected(batch_id, len(await store.keys(documents, limit=settings.max_files)))
            await asyncio.sleep(0.2)
        return StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP},
            background=BackgroundTask(response.aclose),
        )

    @status_routes.get(f"{INGEST}/batch/{{batch_id}}/status", response_model=BatchStatus, responses=ERRORS,
             summary="Progress of a batch")
    async def batch_status(batch_id: BatchId, request: Request) -> Response:
        return await forward(request, f"{INGEST}/batch/{batch_id}/status", batch_id, grace_seconds=2,
                             unprojected=nothing_finished_yet)

    @status_routes.get(f"{INGEST}/batch/{{batch_id}}/events", responses=ERRORS,
             summary="Live progress of a batch as Server-Sent Events, closing at its end")
    async def batch_events(batch_id: BatchId, request: Request) -> Response:
        return await forward(request, f"{INGEST}/batch/{batch_id}/events", batch_id, grace_seconds=60)

    @status_routes.post(f"{INGEST}/batch/{{batch_id}}/cancel", response_model=BatchStatus, responses=ERRORS,
              summary="Cancel the documents of a batch that have not finished")
    async def cancel_batch(batch_id: BatchId, request: Request) -> Response:
        return await forward(request, f"{INGEST}/batch/{batch_id}/cancel", batch_id)

    @status_routes.post(f"{INGEST}/batch/{{batch_id}}/retry", response_model=BatchStatus, responses=ERRORS,
              summary="Queue a batch's failed documents again")
    async def retry_batch(batch_id: BatchId, request: Request) -> Response:
        return await forward(request, f"{INGEST}/batch/{batch_id}/retry", batch_id)

    @status_routes.get(f"{INGEST}/batches", response_model=BatchPage, responses=ERRORS, summary="Batches, newest first")
    async def list_batches(request: Request) -> Response:
        return await forward(request, f"{INGEST}/batches")

    app.include_router(status_routes)

    @app.get("/", include_in_schema=False)
    async def upload_page() -> HTMLResponse:
        return HTMLResponse(UPLOAD_PAGE)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = {"broker": await broker.ping(timeout=3), "storage": await store.ping()}
        return JSONResponse({"ready": all(checks.values()), "checks": checks}, status_code=200 if all(checks.values()) else 503)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


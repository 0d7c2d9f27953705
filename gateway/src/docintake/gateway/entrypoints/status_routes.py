"""The status routes, served by the status service and forwarded there (streams pass through).

The key is checked here too, so a client is refused even while the status service is away.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from uuid import UUID

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from docintake.contracts.api import BatchPage, BatchStatus
from docintake.gateway.adapters.status_service import StatusService, passed_on
from docintake.gateway.domain.refusals import BatchNotProjected
from docintake.gateway.entrypoints.dependencies import (
    ApiKey,
    Caller,
    StatusServiceDep,
    StoreDep,
    StreamBudgetDep,
    require_api_key,
)
from docintake.gateway.entrypoints.upload import ERRORS, INGEST
from docintake.gateway.service_layer.status_forwarding import PROJECTION_GRACE_SECONDS, answer_about_batch
from docintake.platform.storage import ObjectStore
from docintake.platform.tenants import Principal
from docintake.platform.web import BatchId

router = APIRouter(dependencies=[Depends(require_api_key)])


def streamed(upstream: httpx.Response, finished: Callable[[], None] = lambda: None) -> Response:
    """The status service's response passed on as it streams; `finished` runs once it is over, however it ends."""

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await upstream.aclose()
            finished()

    return StreamingResponse(body(), status_code=upstream.status_code, headers=passed_on(upstream.headers))


def asking(request: Request, path: str, body: bytes, status_service: StatusService,
           live: bool = False) -> Callable[[], Awaitable[httpx.Response]]:
    return partial(status_service.send, request.method, path, request.query_params, request.headers, body,
                   live=live)


async def forwarded(request: Request, path: str, status_service: StatusService) -> Response:
    return streamed(await asking(request, path, await request.body(), status_service)())


async def forwarded_about_batch(request: Request, batch_id: UUID, action: str, status_service: StatusService,
                                store: ObjectStore, caller: Principal,
                                grace_seconds: float = PROJECTION_GRACE_SECONDS) -> Response:
    """Forwarded; a batch announced but not yet known there is asked about again for `grace_seconds`."""
    ask = asking(request, f"{INGEST}/batch/{batch_id}/{action}", await request.body(), status_service)
    return streamed(await answer_about_batch(ask, batch_id, store, grace_seconds, caller))


@router.get(f"{INGEST}/batch/{{batch_id}}/status", response_model=BatchStatus, responses=ERRORS,
            summary="Progress of a batch")
async def batch_status(batch_id: BatchId, request: Request, status_service: StatusServiceDep,
                       store: StoreDep, caller: Caller) -> Response:
    try:
        return await forwarded_about_batch(request, batch_id, "status", status_service, store, caller,
                                           grace_seconds=2)
    except BatchNotProjected as unprojected:  # accepted, so all its documents are pending
        status = BatchStatus(batch_id=batch_id, status="in_progress", total_documents=unprojected.stored_documents,
                             processed_count=0, failed_count=0, pending_count=unprojected.stored_documents)
        return JSONResponse(status.model_dump(mode="json"))


@router.get(f"{INGEST}/batch/{{batch_id}}/events", responses=ERRORS,
            summary="Live progress of a batch as Server-Sent Events, closing at its end")
async def batch_events(batch_id: BatchId, request: Request, api_key: ApiKey, caller: Caller,
                       streams: StreamBudgetDep, status_service: StatusServiceDep, store: StoreDep) -> Response:
    streams.take(api_key)
    try:
        ask = asking(request, f"{INGEST}/batch/{batch_id}/events", b"", status_service, live=True)
        upstream = await answer_about_batch(ask, batch_id, store, grace_seconds=60, caller=caller)
    except BaseException:
        streams.give_back(api_key)
        raise
    return streamed(upstream, finished=partial(streams.give_back, api_key))


@router.post(f"{INGEST}/batch/{{batch_id}}/cancel", response_model=BatchStatus, responses=ERRORS,
             summary="Cancel the documents of a batch that have not finished")
async def cancel_batch(batch_id: BatchId, request: Request, status_service: StatusServiceDep,
                       store: StoreDep, caller: Caller) -> Response:
    return await forwarded_about_batch(request, batch_id, "cancel", status_service, store, caller)


@router.post(f"{INGEST}/batch/{{batch_id}}/retry", response_model=BatchStatus, responses=ERRORS,
             summary="Queue a batch's failed documents again")
async def retry_batch(batch_id: BatchId, request: Request, status_service: StatusServiceDep,
                      store: StoreDep, caller: Caller) -> Response:
    return await forwarded_about_batch(request, batch_id, "retry", status_service, store, caller)


@router.get(f"{INGEST}/batches", response_model=BatchPage, responses=ERRORS, summary="Batches, newest first")
async def list_batches(request: Request, status_service: StatusServiceDep) -> Response:
    return await forwarded(request, f"{INGEST}/batches", status_service)

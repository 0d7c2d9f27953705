"""The deletion routes: delete sources, a collection or a batch's documents (202 with what will be
removed), and read a deletion's progress, which the status service keeps like a batch's."""

import asyncio
import time
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from docintake.contracts.api import BatchStatus, DeletionAccepted, ErrorBody
from docintake.gateway.domain.deletion import Selection, batch_documents, named_sources, whole_collection
from docintake.gateway.domain.refusals import DeletionNotFound
from docintake.gateway.entrypoints.dependencies import Caller, PublishDep, StatusServiceDep, built, require_api_key
from docintake.gateway.entrypoints.upload import INGEST
from docintake.gateway.service_layer.request_deletion import SourceCatalog, request_deletion
from docintake.gateway.service_layer.status_forwarding import POLL_SECONDS, PROJECTION_GRACE_SECONDS
from docintake.platform.tenants import Principal
from docintake.platform.web import BatchId

router = APIRouter(dependencies=[Depends(require_api_key)])
COLLECTIONS = "/api/v1/collections"
DELETIONS = "/api/v1/deletions"
ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorBody} for status in (400, 401, 404, 503)}

CatalogDep = Annotated[SourceCatalog, Depends(built("sources"))]


class SourcePaths(BaseModel):
    source_paths: list[str]


async def _accepted(selection: Selection, catalog: SourceCatalog, publish: PublishDep,
                    caller: Principal) -> JSONResponse:
    answer = await request_deletion(selection.by(caller.tenant, caller.key_id), catalog, publish)
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)


@router.delete(f"{COLLECTIONS}/{{collection}}", status_code=202, response_model=DeletionAccepted,
               responses=ERRORS, summary="Delete a whole collection")
async def delete_collection(collection: str, catalog: CatalogDep, publish: PublishDep,
                            caller: Caller) -> JSONResponse:
    return await _accepted(whole_collection(collection), catalog, publish, caller)


@router.delete(f"{COLLECTIONS}/{{collection}}/sources/{{source_path:path}}", status_code=202,
               response_model=DeletionAccepted, responses=ERRORS, summary="Delete one source of a collection")
async def delete_source(collection: str, source_path: str, catalog: CatalogDep, publish: PublishDep,
                        caller: Caller) -> JSONResponse:
    return await _accepted(named_sources(collection, [source_path]), catalog, publish, caller)


@router.post(f"{COLLECTIONS}/{{collection}}/sources/delete", status_code=202, response_model=DeletionAccepted,
             responses=ERRORS, summary="Delete a list of sources of a collection")
async def delete_sources(collection: str, body: Annotated[SourcePaths, Body()], catalog: CatalogDep,
                         publish: PublishDep, caller: Caller) -> JSONResponse:
    return await _accepted(named_sources(collection, body.source_paths), catalog, publish, caller)


@router.delete(f"{INGEST}/batch/{{batch_id}}/documents", status_code=202, response_model=DeletionAccepted,
               responses=ERRORS, summary="Delete the sources whose current version a batch wrote")
async def delete_batch_documents(batch_id: BatchId, catalog: CatalogDep, publish: PublishDep,
                                 caller: Caller) -> JSONResponse:
    return await _accepted(batch_documents(batch_id), catalog, publish, caller)


@router.get(f"{DELETIONS}/{{deletion_id}}", response_model=BatchStatus, responses=ERRORS,
            summary="Progress of a deletion")
async def deletion_status(deletion_id: str, request: Request, status_service: StatusServiceDep) -> Response:
    """The deletion's record, as a batch's status (kind deletion, removed_count); a deletion just accepted
    is asked about again while the status service has yet to record it."""
    try:
        UUID(deletion_id)
    except ValueError:
        raise DeletionNotFound(deletion_id) from None
    deadline = time.monotonic() + PROJECTION_GRACE_SECONDS
    while True:
        upstream = await status_service.send("GET", f"{INGEST}/batch/{deletion_id}/status", {}, request.headers, b"")
        try:
            body = await upstream.aread()
        finally:
            await upstream.aclose()
        if upstream.status_code == 200:
            status = BatchStatus.model_validate_json(body)
            if status.kind != "deletion":
                raise DeletionNotFound(deletion_id)
            return JSONResponse(status.model_dump(mode="json"))
        if upstream.status_code != 404:
            return Response(body, status_code=upstream.status_code, media_type="application/json")
        if time.monotonic() >= deadline:
            raise DeletionNotFound(deletion_id)
        await asyncio.sleep(POLL_SECONDS)

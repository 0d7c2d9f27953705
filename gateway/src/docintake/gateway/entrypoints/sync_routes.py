"""The sync route: a client's list of files compared with a collection (new, changed, unchanged, absent).

The body is read up to MAX_SYNC_BODY_BYTES, whatever its Content-Length says, before it is parsed; one
sent with Content-Encoding gzip is inflated up to that bound as well, never further."""

import zlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from docintake.contracts.api import ErrorBody, SyncAnswer, SyncRequest
from docintake.gateway.domain.refusals import InvalidSync, SyncListTooLarge
from docintake.gateway.domain.sync import MAX_SYNC_BODY_BYTES
from docintake.gateway.entrypoints.dependencies import Caller, built, require_api_key
from docintake.gateway.service_layer.sync import SyncCatalog, sync

router = APIRouter(dependencies=[Depends(require_api_key)])
ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorBody} for status in (400, 401, 413, 503)}

SyncCatalogDep = Annotated[SyncCatalog, Depends(built("sources"))]


async def bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_SYNC_BODY_BYTES:
        raise SyncListTooLarge(MAX_SYNC_BODY_BYTES)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise InvalidSync(f"Content-Encoding '{encoding[:20]}' is not read here; send gzip or identity")
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    body = bytearray()
    try:
        async for chunk in request.stream():
            while chunk:
                if inflate is None:
                    body += chunk
                    chunk = b""
                else:
                    body += inflate.decompress(chunk, MAX_SYNC_BODY_BYTES + 1 - len(body))
                    chunk = inflate.unconsumed_tail
                if len(body) > MAX_SYNC_BODY_BYTES:
                    raise SyncListTooLarge(MAX_SYNC_BODY_BYTES)
    except zlib.error:
        raise InvalidSync("The gzip body cannot be inflated") from None
    return bytes(body)


@router.post("/api/v1/collections/{collection}/sync", response_model=SyncAnswer, responses=ERRORS,
             summary="Compare a list of files with a collection",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": SyncRequest.model_json_schema()}}}})
async def sync_collection(collection: str, request: Request, catalog: SyncCatalogDep, caller: Caller) -> JSONResponse:
    """Which of the listed paths (`{"sources": [{"path", "sha256", "size"}, ...]}`) the collection lacks
    (`new`), holds with other content (`changed`) or as is (`unchanged`), and which of its sources the
    list does not name (`absent`). A collection with no source yet: every path is new."""
    try:
        listed = SyncRequest.model_validate_json(await bounded_body(request))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidSync(f"The sync list cannot be read: {where}: {first['msg']}") from None
    answer = await sync(collection, listed.sources, catalog, caller.tenant)
    return JSONResponse(answer.model_dump(mode="json"))

"""The upload route, and the page that uses it."""

import time
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from docintake.contracts.api import BatchAccepted, ErrorBody
from docintake.gateway.adapters.multipart import MultipartReader, boundary_of
from docintake.gateway.domain.answers import Answer
from docintake.gateway.domain.refusals import Refusal
from docintake.gateway.entrypoints import metrics
from docintake.gateway.entrypoints.dependencies import (
    AnswersDep,
    ApiKey,
    Caller,
    KeyRingDep,
    PublishDep,
    SettingsDep,
    StatusServiceDep,
    StoreDep,
)
from docintake.gateway.entrypoints.refusal_answers import api_error
from docintake.gateway.service_layer import idempotency
from docintake.gateway.service_layer.accept_batch import accept_batch
from docintake.gateway.service_layer.admission import admit
from docintake.gateway.service_layer.callbacks import checked_callback
from docintake.platform import webhook_targets
from docintake.platform.security_headers import page_policy
from docintake.platform.webhook_targets import AllowList

INGEST = "/api/v1/documents/ingest"
ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorBody} for status in (400, 401, 404, 413, 503)}
UPLOAD_PAGE = (Path(__file__).parent / "static" / "index.html").read_text()
UPLOAD_PAGE_POLICY = page_policy(UPLOAD_PAGE)

router = APIRouter()

MULTIPART_BODY = {
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
                        "collection": {"type": "string", "description": "The collection, if the query names none"},
                    },
                }
            }
        },
    }
}


@router.post(f"{INGEST}/batch", status_code=202, response_model=BatchAccepted, responses=ERRORS,
             summary="Upload up to 100 documents into a collection, with an optional CSV or JSON metadata mapping",
             openapi_extra=MULTIPART_BODY)
async def ingest_batch(
    request: Request,
    api_key: ApiKey,
    caller: Caller,
    keys: KeyRingDep,
    settings: SettingsDep,
    store: StoreDep,
    answers: AnswersDep,
    status_service: StatusServiceDep,
    publish: PublishDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    collection: Annotated[str | None, Query(description="The collection the documents belong to (default "
                                                        "'default'); or the form field 'collection'")] = None,
    callback_url: Annotated[str | None, Query(max_length=2000, description="A URL to POST the batch's completion "
                                                                           "to, signed (see Webhooks)")] = None,
    callback_documents: Annotated[bool, Query(description="Whether callback_url is told of each document's "
                                                          "outcome too")] = False,
) -> JSONResponse:
    started = time.perf_counter()
    async with idempotency.only_one_at_a_time(answers, api_key, idempotency_key):
        replayed = await idempotency.recall(answers, api_key, idempotency_key)
        if replayed is not None:
            return JSONResponse(replayed.body, status_code=replayed.status, headers={"Idempotent-Replayed": "true"})
        try:
            callback = await checked_callback(callback_url, callback_documents, keys.tenant(caller.tenant),
                                              partial(webhook_targets.check,
                                                      allowed=AllowList.parse(settings.webhook_allowed_hosts)))
            boundary = boundary_of(request.headers.get("content-type"))
            await admit(status_service, settings.allowance(keys.tenant(caller.tenant)), caller.tenant)
            parts = MultipartReader(request.stream(), boundary, settings.body_idle_timeout_seconds).parts()
            accepted = await accept_batch(parts, store, publish, settings.batch_limits, collection, caller, callback)
        except Refusal as refusal:
            error = api_error(refusal)
            metrics.BATCHES.labels(error.code).inc()
            await idempotency.remember(answers, api_key, idempotency_key, Answer(error.status, error.body()))
            raise error from None
        body = accepted.answer().model_dump(mode="json")
        await idempotency.remember(answers, api_key, idempotency_key, Answer(202, body))
    metrics.BATCHES.labels("accepted").inc()
    metrics.DOCUMENTS.inc(accepted.total_documents)
    metrics.BYTES.inc(accepted.total_bytes)
    metrics.UPLOAD_SECONDS.observe(time.perf_counter() - started)
    return JSONResponse(body, status_code=202)


@router.get("/", include_in_schema=False)
async def upload_page() -> HTMLResponse:
    return HTMLResponse(UPLOAD_PAGE, headers={"Content-Security-Policy": UPLOAD_PAGE_POLICY})

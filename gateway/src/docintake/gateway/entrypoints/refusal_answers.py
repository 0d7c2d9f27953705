"""The one table from a refusal to the HTTP status and error code a client reads."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from docintake.gateway.domain.refusals import (
    BacklogFull,
    BatchHasNoSources,
    BatchNotFound,
    BatchNotProjected,
    BatchTooLarge,
    CollectionNotFound,
    DeletionNotFound,
    FileTooLarge,
    GraphUnavailable,
    IdempotencyKeyInFlight,
    InvalidCallbackUrl,
    InvalidCollection,
    InvalidDeletion,
    InvalidMetadataMapping,
    InvalidMultipart,
    InvalidSourcePath,
    InvalidSync,
    NoFiles,
    RateLimited,
    Refusal,
    SourceNotFound,
    StatusServiceUnavailable,
    SyncListTooLarge,
    TooManyStreams,
    UploadFailed,
    UploadQuotaExceeded,
    UploadTimedOut,
)
from docintake.platform.web import ApiError, error_response

ANSWERS: dict[type[Refusal], tuple[int, str]] = {
    NoFiles: (400, "NO_FILES"),
    BatchTooLarge: (400, "BATCH_TOO_LARGE"),
    InvalidMetadataMapping: (400, "INVALID_METADATA_MAPPING"),
    InvalidMultipart: (400, "INVALID_MULTIPART"),
    InvalidCallbackUrl: (400, "INVALID_CALLBACK_URL"),
    InvalidCollection: (400, "INVALID_COLLECTION"),
    InvalidSourcePath: (400, "INVALID_SOURCE_PATH"),
    InvalidDeletion: (400, "INVALID_DELETION"),
    InvalidSync: (400, "INVALID_SYNC"),
    BatchNotFound: (404, "BATCH_NOT_FOUND"),
    SourceNotFound: (404, "SOURCE_NOT_FOUND"),
    CollectionNotFound: (404, "COLLECTION_NOT_FOUND"),
    BatchHasNoSources: (404, "BATCH_NOT_FOUND"),
    DeletionNotFound: (404, "DELETION_NOT_FOUND"),
    UploadTimedOut: (408, "REQUEST_TIMEOUT"),
    IdempotencyKeyInFlight: (409, "IDEMPOTENCY_KEY_IN_FLIGHT"),
    FileTooLarge: (413, "FILE_TOO_LARGE"),
    SyncListTooLarge: (413, "SYNC_LIST_TOO_LARGE"),
    TooManyStreams: (429, "TOO_MANY_STREAMS"),
    RateLimited: (429, "RATE_LIMITED"),
    UploadQuotaExceeded: (429, "UPLOAD_QUOTA_EXCEEDED"),
    BacklogFull: (503, "INGESTION_BACKLOG_FULL"),
    UploadFailed: (503, "SERVICE_UNAVAILABLE"),
    StatusServiceUnavailable: (503, "SERVICE_UNAVAILABLE"),
    BatchNotProjected: (503, "BATCH_NOT_READY"),
    GraphUnavailable: (503, "SERVICE_UNAVAILABLE"),
}


def api_error(refusal: Refusal) -> ApiError:
    status, code = ANSWERS[type(refusal)]
    headers = None if refusal.retry_after is None else {"Retry-After": str(refusal.retry_after)}
    return ApiError(status, code, refusal.message, headers)


async def _answer(_: Request, refusal: Exception) -> JSONResponse:
    error = api_error(refusal)  # type: ignore[arg-type]  # registered for Refusal only
    return error_response(error.status, error.code, error.message, error.headers)


def install_refusal_answers(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, _answer)

"""FastAPI pieces both HTTP services share: the error envelope on every error, and X-API-Key auth."""

import hmac
import signal
import sys
from collections.abc import Callable
from typing import Annotated
from uuid import UUID

import uvicorn
from fastapi import Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException as StarletteHTTPException

from docintake.contracts.api import ErrorBody, ErrorDetail
from docintake.platform.http_server import server_config
from docintake.platform.logging import get_logger

log = get_logger(__name__)

STATUS_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
                413: "FILE_TOO_LARGE", 422: "INVALID_REQUEST", 503: "SERVICE_UNAVAILABLE"}


class ApiError(Exception):
    """An error the client is meant to read: it becomes {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers

    def body(self) -> dict:
        return ErrorBody(error=ErrorDetail(code=self.code, message=self.message)).model_dump()


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ApiError(status, code, message).body(), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves in the design's envelope; an unexpected one never shows its trace."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return error_response(422, "INVALID_REQUEST", f"{where}: {first.get('msg')}".strip(": "))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged")


async def batch_id_in_path(batch_id: str) -> UUID:
    """The batch id of a route's path; one that is not even a UUID names no batch: 404, as for any unknown batch."""
    try:
        return UUID(batch_id)
    except ValueError:
        raise ApiError(404, "BATCH_NOT_FOUND", f"No batch with id {batch_id}") from None


BatchId = Annotated[UUID, Depends(batch_id_in_path)]

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def api_key_guard(keys: Callable[[], list[str]]) -> Callable:
    """A dependency that accepts a request only with one of the configured keys (compared in constant time)."""

    async def require_api_key(api_key: str | None = Security(_api_key_header)) -> str:
        given = (api_key or "").encode()
        if not any(hmac.compare_digest(given, key.encode()) for key in keys()):
            raise ApiError(401, "UNAUTHORIZED", "Missing or invalid X-API-Key header")
        return api_key or ""

    return require_api_key


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, shut down gracefully, and exit 0 as a supervised service should.

    uvicorn re-raises the signal it caught once it has shut down; the handlers installed here
    turn that into a clean exit.
    """
    def exit_cleanly(*_: object) -> None:
        sys.exit(0)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, exit_cleanly)
    uvicorn.Server(server_config(app, host, port)).run()

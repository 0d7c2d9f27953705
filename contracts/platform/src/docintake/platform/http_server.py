"""uvicorn as every docintake HTTP service runs it, with the bounds a public door needs.

uvicorn's httptools protocol buffers a request's head without limit and waits for it without end:
one client could send a 200 MiB header line, or hold connections open by sending a byte a minute.
Here a request line and headers larger than `max_head_bytes` get 431, a head not complete within
`head_timeout_seconds` of its first byte (or of the connection, for a client that sends nothing)
gets 408, each in the design's error format; what the client sends after that is dropped unread
for a moment (so that it can read the answer) before the connection is closed.
"""

import asyncio
import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_SECONDS = 10.0
# The head is fed to the parser in slices this big, so that its size is checked as it grows.
_SLICE = 8 * 1024
LINGER_SECONDS = 1.0


def _error_bytes(status: int, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return b"".join([
        STATUS_LINE[status],
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
        body,
    ])


class BoundedHttpProtocol(HttpToolsProtocol):
    max_head_bytes = MAX_HEAD_BYTES
    head_timeout_seconds = HEAD_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        while data and self._in_head and not self._refused and not self.transport.is_closing():
            piece, data = data[:_SLICE], data[_SLICE:]
            self._head_bytes += len(piece)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(431, "REQUEST_HEADERS_TOO_LARGE",
                             f"The request line and headers exceed {self.max_head_bytes} bytes")
                return
            super().data_received(piece)
        if data and not self._refused and not self.transport.is_closing():
            super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        """What uvicorn answers to bytes that are not HTTP, in the design's error format."""
        self._refuse(400, "MALFORMED_REQUEST", msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._in_head, self._head_bytes = True, 0  # the keep-alive timeout guards the wait for the next one

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout_seconds, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and self._head_bytes:
            self._refuse(408, "REQUEST_TIMEOUT",
                         f"The request's headers did not arrive within {self.head_timeout_seconds:g} s")
        elif self._in_head and self.cycle is None:
            self.transport.close()  # connected and never said anything

    def _refuse(self, status: int, code: str, message: str) -> None:
        self._disarm_head_timer()
        self._refused = True
        if not self.transport.is_closing():
            self.transport.write(_error_bytes(status, code, message))
            self.loop.call_later(LINGER_SECONDS, self.transport.close)


def server_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of every docintake HTTP service (and of the tests that serve one)."""
    return uvicorn.Config(
        app, host=host, port=port, http=BoundedHttpProtocol, log_config=None, timeout_graceful_shutdown=20,
        server_header=False, **options,
    )

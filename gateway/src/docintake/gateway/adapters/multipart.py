"""Read a multipart/form-data body part by part, as it streams in, without buffering a file."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from docintake.gateway.domain.refusals import InvalidMultipart, UploadTimedOut


def boundary_of(content_type: str | None) -> bytes:
    media_type, options = parse_options_header(content_type or "")
    if media_type != b"multipart/form-data":
        raise InvalidMultipart("The request must be multipart/form-data with a 'files' field")
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidMultipart("The multipart/form-data content type has no boundary")
    return boundary


@dataclass
class Part:
    headers: dict[str, str]
    _reader: "MultipartReader" = field(repr=False)
    _done: bool = False

    @property
    def name(self) -> str:
        return self._disposition().get("name", "")

    @property
    def filename(self) -> str | None:
        return self._disposition().get("filename")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream")

    def _disposition(self) -> dict[str, str]:
        message = Message()
        message["content-disposition"] = self.headers.get("content-disposition", "")
        # filename*=UTF-8''... (RFC 2231) arrives as a (charset, language, value) tuple
        return {key: collapse_rfc2231_value(value)
                for key, value in message.get_params(header="content-disposition", failobj=[])[1:]}

    async def chunks(self) -> AsyncIterator[bytes]:
        """The part's bytes, in the order and sizes they arrive."""
        while not self._done:
            kind, payload = await self._reader.next_event()
            if kind == "data":
                yield payload  # type: ignore[misc]  # a "data" event carries bytes
            elif kind == "end":
                self._done = True

    async def read(self, limit: int) -> bytes:
        data = bytearray()
        async for chunk in self.chunks():
            data += chunk
            if len(data) > limit:
                raise InvalidMultipart(f"The field '{self.name}' exceeds {limit} bytes")
        return bytes(data)

    async def discard(self) -> int:
        return sum([len(chunk) async for chunk in self.chunks()])


# A part's headers (Content-Disposition with its filename, Content-Type) are read whole; past this, refused.
MAX_PART_HEADER_BYTES = 64 * 1024


class MultipartReader:
    """The body's events as they stream in; a body that sends nothing for `idle_timeout` seconds is cut off."""

    def __init__(self, body: AsyncIterator[bytes], boundary: bytes, idle_timeout: float = 30.0):
        self._body = body
        self._idle_timeout = idle_timeout
        self._events: list[tuple[str, object]] = []
        self._position = 0
        self._finished = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": lambda data, start, end: self._grow(self._header_field, data[start:end]),
                "on_header_value": lambda data, start, end: self._grow(self._header_value, data[start:end]),
                "on_header_end": self._on_header_end,
                "on_headers_finished": lambda: self._events.append(("part", dict(self._headers))),
                "on_part_data": lambda data, start, end: self._events.append(("data", bytes(data[start:end]))),
                "on_part_end": lambda: self._events.append(("end", None)),
                "on_end": lambda: self._events.append(("finished", None)),
            },
            max_header_size=MAX_PART_HEADER_BYTES,
        )

    @staticmethod
    def _grow(header: bytearray, data: bytes) -> None:
        header.extend(data)
        if len(header) > MAX_PART_HEADER_BYTES:
            raise InvalidMultipart(f"A part's header exceeds {MAX_PART_HEADER_BYTES} bytes")

    async def _next_chunk(self) -> bytes | None:
        try:
            async with asyncio.timeout(self._idle_timeout):
                return await anext(self._body, None)
        except TimeoutError:
            raise UploadTimedOut(self._idle_timeout) from None
        except ClientDisconnect:
            raise InvalidMultipart("The client went away before the upload ended") from None

    def _on_part_begin(self) -> None:
        self._headers = {}

    def _on_header_end(self) -> None:
        name = self._header_field.decode("latin-1").strip().lower()
        self._headers[name] = self._header_value.decode("utf-8", "replace").strip()
        self._header_field.clear()
        self._header_value.clear()

    async def next_event(self) -> tuple[str, object]:
        while self._position >= len(self._events):
            if self._finished:
                raise InvalidMultipart("The multipart body ended before its closing boundary")
            self._events.clear()
            self._position = 0
            chunk = await self._next_chunk()
            if chunk is None:
                self._finished = True
                continue
            if chunk:
                try:
                    self._parser.write(chunk)
                except MultipartParseError as exc:
                    raise InvalidMultipart(f"The multipart body is malformed: {exc}") from exc
        event = self._events[self._position]
        self._position += 1
        return event

    async def parts(self) -> AsyncIterator[Part]:
        """Each part in turn; whatever of a part its consumer did not read is skipped."""
        current: Part | None = None
        while True:
            if current is not None and not current._done:
                await current.discard()
            kind, payload = await self.next_event()
            if kind == "finished":
                return
            if kind == "part":
                current = Part(headers=payload, _reader=self)  # type: ignore[arg-type]
                yield current

"""A webhook receiver on loopback for the status service's tests, and the tenants and batches they use."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request, Response

from docintake.contracts.events import BatchCreated, BatchCreatedData, Event
from docintake.platform.tenants import hashed
from docintake.status.domain.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_matches
from tests.support.http import serving
from tests.support.status_events import SyntheticBatch
from tests.support.status_service import API_KEY

SECRET = "whsec-integration"
# Tries close together, loopback allow-listed; given up after a minute, so that nothing tries on for long.
FAST_RETRIES: dict[str, object] = {
    "webhook_allowed_hosts": "127.0.0.1",
    "webhook_initial_backoff_seconds": 0.2,
    "webhook_max_backoff_seconds": 0.5,
    "webhook_poll_seconds": 0.1,
    "webhook_timeout_seconds": 2,
    "webhook_retry_for_seconds": 60,
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers[name.lower()]


@dataclass
class Receiver:
    """Answers the deliveries of a batch to a path with the statuses scripted for them (then 200), and keeps
    every request. A status scripted as 0 holds its request until `release` is set."""

    script: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    base_url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path:path}")
        async def hook(path: str, request: Request) -> Response:
            got = Received(path, {k.lower(): v for k, v in request.headers.items()}, await request.body())
            self.received.append(got)
            answers = self.script.get((path, got.event.get("batch_id", "")), [])
            answer = answers.pop(0) if answers else 200
            if answer == 0:
                await self.release.wait()
                return Response(status_code=200)
            return Response(b"receiver says no" if answer >= 400 else b"", status_code=answer)

        return app

    @asynccontextmanager
    async def serving(self) -> AsyncIterator["Receiver"]:
        async with serving(self.app()) as base_url:
            self.base_url = base_url
            yield self

    def answer(self, path: str, batch_id: object, *statuses: int) -> None:
        self.script[(path, str(batch_id))] = list(statuses)

    def of_batch(self, batch_id: object, path: str | None = None) -> list[Received]:
        return [got for got in self.received
                if got.event.get("batch_id") == str(batch_id) and (path is None or got.path == path)]


def tenants_file(path: Path, receiver: Receiver) -> Path:
    """Tenant acme, with a secret and a webhook for completions at the receiver's /acme; the tests' own key
    an admin's."""
    path.write_text(json.dumps({"tenants": {
        "acme": {"keys": {"acme-1": hashed("acme-key")}, "webhook_secret": SECRET,
                 "webhooks": [{"url": f"{receiver.base_url}/acme", "documents": False}]},
        "operations": {"keys": {"ops-1": hashed(API_KEY)}, "admin": True},
    }}))
    return path


def acme_batch(size: int, callback_url: str | None = None, documents: bool = False) -> tuple[SyntheticBatch,
                                                                                               list[Event]]:
    """A batch of tenant acme, its BatchCreated (with the callback) and every document ingested."""
    synthetic = SyntheticBatch(size=size)
    created = BatchCreated(batch_id=synthetic.batch_id, tenant="acme", occurred_at=synthetic.start,
                           data=BatchCreatedData(documents=synthetic.refs, callback_url=callback_url,
                                                 callback_documents=documents))
    outcomes = [synthetic.ingested(index).model_copy(update={"tenant": "acme"}) for index in range(size)]
    return synthetic, [created, *outcomes]


def assert_signed(got: Received) -> None:
    assert signature_matches(SECRET, int(got.header(TIMESTAMP_HEADER)), got.body, got.header(SIGNATURE_HEADER))

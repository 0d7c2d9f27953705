"""A sync's rules: how a client's list is read, and how it compares with a collection's sources."""

import asyncio
import gzip
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from docintake.contracts.api import SyncEntry
from docintake.gateway.domain.quotas import RequestRates
from docintake.gateway.domain.refusals import GraphUnavailable, InvalidCollection, InvalidSync
from docintake.gateway.domain.sync import MAX_SYNC_BODY_BYTES, MAX_SYNC_ENTRIES, listed_files
from docintake.gateway.entrypoints import sync_routes
from docintake.gateway.entrypoints.refusal_answers import install_refusal_answers
from docintake.gateway.service_layer.sync import sync
from docintake.gateway.settings import GatewaySettings
from docintake.platform import errors
from docintake.platform.tenants import KeyRing
from docintake.platform.web import install_error_handlers

A, B, C = "a" * 64, "b" * 64, "c" * 64


def entry(path: str, sha256: str = A, size: int = 10) -> SyncEntry:
    return SyncEntry(path=path, sha256=sha256, size=size)


class FakeCatalog:
    """A collection's sources (path -> sha256); records the paths each lookup asked for."""

    def __init__(self, sources: dict[str, dict[str, str]] | None = None, fails: bool = False):
        self.sources = sources or {}
        self.fails = fails
        self.asked: list[list[str]] = []

    async def current_versions(self, tenant: str, collection: str, paths: list[str]) -> dict[str, str]:
        if self.fails:
            raise errors.GraphUnavailable("down")
        self.asked.append(paths)
        have = self.sources.get(collection, {})
        return {path: have[path] for path in paths if path in have}

    async def source_paths(self, tenant: str, collection: str) -> AsyncIterator[str]:
        for path in sorted(self.sources.get(collection, {})):
            yield path


def test_paths_are_normalised_as_an_upload_normalises_them():
    listed = listed_files([entry("guide\\setup.md"), entry("/notes//../a.md"), entry("./b.md")])
    assert [(f.sent, f.path) for f in listed] == [
        ("guide\\setup.md", "guide/setup.md"), ("/notes//../a.md", "notes/a.md"), ("./b.md", "b.md")]


def test_a_sha256_is_read_in_either_case():
    assert listed_files([entry("a.md", "AB" * 32)])[0].sha256 == "ab" * 32


@pytest.mark.parametrize("bad", [
    [entry("..")], [entry("/")], [entry("a.md", "xyz")], [entry("a.md", size=-1)],
    [entry("/".join(["a" * 200] * 6))], [entry("x/a.md"), entry("x\\a.md", B)],
])
def test_a_bad_entry_refuses_the_whole_list(bad):
    with pytest.raises(InvalidSync):
        listed_files(bad)


def test_a_list_longer_than_the_bound_is_refused():
    with pytest.raises(InvalidSync, match=str(MAX_SYNC_ENTRIES)):
        listed_files([entry(f"{i}.md") for i in range(MAX_SYNC_ENTRIES + 1)])


def test_new_changed_unchanged_and_absent():
    catalog = FakeCatalog({"kb": {"same.md": A, "edited.md": A, "gone.md": C}, "other": {"new.md": A}})
    answer = asyncio.run(sync("kb", [entry("same.md"), entry("./edited.md", B), entry("new.md")], catalog))
    assert (answer.new, answer.changed, answer.unchanged, answer.absent) == (
        ["new.md"], ["./edited.md"], ["same.md"], ["gone.md"])
    assert catalog.asked == [["same.md", "edited.md", "new.md"]]  # looked up by the normalised paths


def test_an_unknown_collection_has_every_path_new_and_nothing_absent():
    answer = asyncio.run(sync("never-seen", [entry("a.md"), entry("b/c.md")], FakeCatalog()))
    assert answer.new == ["a.md", "b/c.md"] and answer.changed == answer.unchanged == answer.absent == []


def test_an_empty_list_finds_every_source_absent():
    answer = asyncio.run(sync("kb", [], FakeCatalog({"kb": {"x.md": A, "y.md": B}})))
    assert answer.absent == ["x.md", "y.md"] and answer.new == []


def test_a_bad_collection_name_is_refused_as_on_upload():
    with pytest.raises(InvalidCollection):
        asyncio.run(sync("no spaces", [entry("a.md")], FakeCatalog()))


def test_an_unreachable_graph_is_a_refusal_to_retry():
    with pytest.raises(GraphUnavailable):
        asyncio.run(sync("kb", [entry("a.md")], FakeCatalog(fails=True)))


def app_with(catalog: FakeCatalog) -> FastAPI:
    app = FastAPI()
    app.state.settings = GatewaySettings(api_keys="k")
    app.state.keys = KeyRing(None, ["k"])
    app.state.rates = RequestRates()
    app.state.sources = catalog
    install_error_handlers(app)
    install_refusal_answers(app)
    app.include_router(sync_routes.router)
    return app


async def post(app: FastAPI, content: bytes, key: str = "k", encoding: str | None = None) -> httpx.Response:
    headers = {"X-API-Key": key, "Content-Type": "application/json"} | (
        {"Content-Encoding": encoding} if encoding else {})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        return await http.post("/api/v1/collections/kb/sync", content=content, headers=headers)


async def test_the_route_answers_the_comparison():
    app = app_with(FakeCatalog({"kb": {"a.md": A, "gone.md": A}}))
    response = await post(app, b'{"sources": [{"path": "a.md", "sha256": "' + B.encode() + b'", "size": 3}]}')
    assert response.status_code == 200, response.text
    assert response.json() == {"collection": "kb", "new": [], "changed": ["a.md"], "unchanged": [],
                               "absent": ["gone.md"]}


@pytest.mark.parametrize("body", [b"not json", b'{"sources": [{"path": "a.md"}]}',
                                  b'{"sources": [{"path": "..", "sha256": "' + A.encode() + b'", "size": 1}]}'])
async def test_a_bad_body_is_400_in_the_error_format(body):
    response = await post(app_with(FakeCatalog()), body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_SYNC" and response.json()["error"]["message"]


async def test_a_body_over_the_bound_is_413_unread():
    response = await post(app_with(FakeCatalog()), b" " * (MAX_SYNC_BODY_BYTES + 1))
    assert response.status_code == 413 and response.json()["error"]["code"] == "SYNC_LIST_TOO_LARGE"


async def test_the_route_wants_an_api_key():
    assert (await post(app_with(FakeCatalog()), b'{"sources": []}', key="wrong")).status_code == 401


async def test_a_gzip_body_is_read_as_the_list_it_inflates_to():
    body = json.dumps({"sources": [{"path": "a.md", "sha256": A, "size": 3}]}).encode()
    response = await post(app_with(FakeCatalog({"kb": {"a.md": A}})), gzip.compress(body), encoding="gzip")
    assert response.status_code == 200, response.text
    assert response.json()["unchanged"] == ["a.md"]


async def test_a_gzip_body_inflating_past_the_bound_is_413():
    bomb = gzip.compress(b" " * (MAX_SYNC_BODY_BYTES + 1))  # about 48 KiB sent
    response = await post(app_with(FakeCatalog()), bomb, encoding="gzip")
    assert response.status_code == 413 and response.json()["error"]["code"] == "SYNC_LIST_TOO_LARGE"


@pytest.mark.parametrize("encoding", ["br", "gzip"])
async def test_a_body_that_is_not_gzip_or_plain_is_400(encoding):
    response = await post(app_with(FakeCatalog()), b'{"sources": []}', encoding=encoding)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_SYNC"

"""Collections and source paths: validated and normalised, never a local path, kept beside the display name."""

import httpx
import pytest

from docintake.gateway.adapters.multipart import MultipartReader, boundary_of
from docintake.gateway.domain.collections import MAX_COLLECTION_LENGTH, valid_collection
from docintake.gateway.domain.refusals import InvalidCollection, InvalidSourcePath
from docintake.gateway.domain.source_paths import MAX_SOURCE_PATH_LENGTH, normalized_source_path
from docintake.gateway.entrypoints.refusal_answers import api_error
from docintake.gateway.service_layer.accept_batch import accept_batch
from docintake.gateway.settings import GatewaySettings
from tests.unit.gateway.test_batches import Broker, Store


@pytest.mark.parametrize(("raw", "path"), [
    ("handbook/setup.pdf", "handbook/setup.pdf"),
    ("/etc/passwd", "etc/passwd"),
    ("../../secrets/../key.pem", "secrets/key.pem"),
    ("handbook//./chapter 1/ intro.md ", "handbook/chapter 1/intro.md"),
    ("C:\\Users\\ada\\report.pdf", "C:/Users/ada/report.pdf"),
    ("Cafe\u0301/menu\x00.txt", "Café/menu.txt"),
    ("right\u202eto-left/فایل\u200cها.pdf", "rightto-left/فایل\u200cها.pdf"),
])
def test_a_source_path_is_normalised_relative_and_clean(raw, path):
    assert normalized_source_path(raw, "display.pdf") == path


@pytest.mark.parametrize("raw", ["", None, "../..", "/", " . / .. "])
def test_a_source_path_with_nothing_left_is_the_display_filename(raw):
    assert normalized_source_path(raw, "unnamed") == "unnamed"


def test_each_part_of_a_source_path_is_bounded_and_the_whole_path_too():
    path = normalized_source_path("a/" + "x" * 1000 + ".docx", "x.docx")
    assert len(path) <= 2 + 255 and path.endswith("x.docx")
    with pytest.raises(InvalidSourcePath) as refusal:
        normalized_source_path("/".join(["folder"] * 200) + "/deep.txt", "deep.txt")
    assert (api_error(refusal.value).status, api_error(refusal.value).code) == (400, "INVALID_SOURCE_PATH")
    assert str(MAX_SOURCE_PATH_LENGTH) in refusal.value.message


@pytest.mark.parametrize("name", ["default", "handbook", "HR-2025_v1.2", "a", "x" * MAX_COLLECTION_LENGTH])
def test_a_collection_name_of_the_safe_charset_is_taken_as_given(name):
    assert valid_collection(name) == name


@pytest.mark.parametrize("name", [None, ""])
def test_no_collection_is_the_default_one(name):
    assert valid_collection(name) == "default"


@pytest.mark.parametrize("name", ["../x", "with space", ".hidden", "-dash", "a/b", "ü", "nul\x00", "semi;colon",
                                  "x" * (MAX_COLLECTION_LENGTH + 1)])
def test_a_collection_name_outside_the_safe_charset_or_too_long_is_refused(name):
    with pytest.raises(InvalidCollection) as refusal:
        valid_collection(name)
    error = api_error(refusal.value)
    assert (error.status, error.code) == (400, "INVALID_COLLECTION")
    assert len(error.message) < 300


def upload(*fields: tuple[str, tuple]):
    request = httpx.Request("POST", "http://gateway/", files=list(fields))
    body = request.read()

    async def stream():
        yield body

    return MultipartReader(stream(), boundary_of(request.headers["content-type"])).parts()


async def test_documents_carry_their_collection_and_source_path_beside_the_display_filename():
    store, broker = Store(), Broker(confirms=2)
    parts = upload(("files", ("handbook/setup.pdf", b"one", "application/pdf")),
                   ("files", ("intro.md", b"two", "text/markdown")),
                   ("collection", (None, b"handbook")))

    accepted = await accept_batch(parts, store, broker.publish, GatewaySettings().batch_limits)

    assert [(d.filename, d.source_path, d.collection) for d in accepted.documents] == [
        ("setup.pdf", "handbook/setup.pdf", "handbook"), ("intro.md", "intro.md", "handbook")]


@pytest.mark.parametrize(("query", "field"), [("bad name", None), (None, "../up"), ("one", "two")])
async def test_a_bad_or_disagreeing_collection_stores_and_publishes_nothing(query, field):
    store, broker = Store(), Broker(confirms=2)
    fields = [("files", ("a.txt", b"text", "text/plain"))] + ([("collection", (None, field.encode()))] if field else [])

    with pytest.raises(InvalidCollection):
        await accept_batch(upload(*fields), store, broker.publish, GatewaySettings().batch_limits, query)

    assert store.objects == set() and broker.attempted == []

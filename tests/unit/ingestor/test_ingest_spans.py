"""ingest_document's spans: fetch, parse and write inside the span it runs in (the consume span), each
naming the batch and the document; an error leaves through the span it came from."""

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from docintake.ingestor.domain.failures import IngestError
from docintake.ingestor.service_layer.ingest import ingest_document
from docintake.ingestor.service_layer.ports import Dependencies
from docintake.platform.errors import ObjectMissing
from docintake.platform.tracing import BATCH_ID, DOCUMENT_ID, exporting_to
from tests.unit.ingestor.fakes import FakeGraph, FakeStorage, parser, queued


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def deps_with(tmp_path, exporter, **ports) -> Dependencies:
    tracer = exporting_to("docintake-ingestor", exporter).tracer("docintake.ingestor")
    return Dependencies(**{"storage": FakeStorage(), "graph": FakeGraph(), "parse": parser(), **ports},
                        work_dir=tmp_path, tracer=tracer)


async def ingest_in_a_consume_span(event, deps):
    with deps.tracer.start_as_current_span("consume"):
        return await ingest_document(event, deps)


async def test_fetch_parse_and_write_are_children_of_the_consume_span_in_order(tmp_path, exporter):
    event = queued()
    deps = deps_with(tmp_path, exporter)

    await ingest_in_a_consume_span(event, deps)

    fetch, parse, write, consume = exporter.get_finished_spans()
    assert [span.name for span in (fetch, parse, write, consume)] == ["fetch", "parse", "write", "consume"]
    ids = (str(event.batch_id), str(event.document_id))
    for span in (fetch, parse, write, consume):
        assert (span.attributes[BATCH_ID], span.attributes[DOCUMENT_ID]) == ids, span.name
    for span in (fetch, parse, write):
        assert span.parent.span_id == consume.context.span_id and span.status.status_code is StatusCode.UNSET
    assert fetch.end_time <= parse.start_time and parse.end_time <= write.start_time
    assert fetch.attributes["docintake.bytes"] == event.data.document.size
    assert write.attributes["docintake.chunks"] > 0


async def test_a_missing_object_is_an_error_on_fetch_and_nothing_is_parsed(tmp_path, exporter):
    deps = deps_with(tmp_path, exporter, storage=FakeStorage(ObjectMissing("gone")))

    await ingest_in_a_consume_span(queued(), deps)  # DocumentFailed OBJECT_MISSING

    fetch, consume = exporter.get_finished_spans()
    assert fetch.name == "fetch" and fetch.status.status_code is StatusCode.ERROR
    assert [event.name for event in fetch.events] == ["exception"]


async def test_a_parsers_refusal_is_an_error_on_parse_and_nothing_is_written(tmp_path, exporter):
    deps = deps_with(tmp_path, exporter, parse=parser(IngestError("NO_TEXT", "No extractable text")))

    await ingest_in_a_consume_span(queued(), deps)  # DocumentFailed NO_TEXT

    fetch, parse, consume = exporter.get_finished_spans()
    assert parse.name == "parse" and parse.status.status_code is StatusCode.ERROR
    assert fetch.status.status_code is StatusCode.UNSET

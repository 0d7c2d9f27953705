"""One document's trace through the three services: the gateway, the ingestor and the status service run
in this process on the real RabbitMQ, MinIO and Neo4j, each with a tracer provider of its own (its
service.name) handing its spans to one in-memory exporter, the way DOCINTAKE_OTLP_ENDPOINT would hand
them to a collector. The trace context crosses the services only in the AMQP headers.
"""

from collections.abc import Sequence
from uuid import uuid4

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from docintake.gateway.bootstrap import create_app as gateway_app
from docintake.gateway.settings import GatewaySettings
from docintake.ingestor.bootstrap import build_app as ingestor_app
from docintake.ingestor.entrypoints.subscribers import broker as ingestor_broker
from docintake.ingestor.settings import IngestorSettings
from docintake.platform.tracing import BATCH_ID, DISABLED, DOCUMENT_ID, exporting_to
from docintake.status.bootstrap import broker as status_broker
from docintake.status.entrypoints.fastapi_app import create_app as status_app
from docintake.status.settings import StatusSettings
from tests.support.batches import INGEST, TERMINAL, status
from tests.support.eventually import eventually
from tests.support.http import client, free_port, serving

GATEWAY, INGESTOR, STATUS = "docintake-gateway", "docintake-ingestor", "docintake-status"


@pytest.fixture
async def services(settings, tmp_path):
    """The gateway's base URL and the exporter every service's spans go to; the brokers left untraced after."""
    exporter = InMemorySpanExporter()
    servers = settings.model_dump()
    status_port = free_port()
    ingestor = ingestor_app(IngestorSettings(**servers, workers=1, ingestor_metrics_port=0, work_dir=tmp_path),
                            exporting_to(INGESTOR, exporter))
    try:
        async with (
            ingestor.lifespan_context(),
            serving(status_app(StatusSettings(**servers, status_port=status_port), exporting_to(STATUS, exporter)),
                    status_port),
            serving(gateway_app(GatewaySettings(**servers, status_url=f"http://127.0.0.1:{status_port}"),
                                exporting_to(GATEWAY, exporter))) as gateway_url,
        ):
            await ingestor.start()
            try:
                yield gateway_url, exporter
            finally:
                await ingestor.stop()
    finally:
        DISABLED.instrument_broker(ingestor_broker)  # module-level brokers: later tests get them bare again
        DISABLED.instrument_broker(status_broker)


def service(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


def named(spans: Sequence[ReadableSpan], name: str, of: str, kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name and service(span) == of and span.kind == kind]


def of_batch(spans: Sequence[ReadableSpan], batch_id: str) -> list[ReadableSpan]:
    return [span for span in spans if span.attributes and span.attributes.get(BATCH_ID) == batch_id]


def parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} of {service(span)} is a root"
    [parent] = [s for s in spans if s.context.span_id == span.parent.span_id]
    return parent


async def test_one_documents_spans_in_all_three_services_are_one_trace_from_the_upload(services):
    gateway_url, exporter = services
    unique = uuid4()  # a source and content never ingested before, so the ingestor fetches, parses and writes it
    async with client(gateway_url) as http:
        response = await http.post(f"{INGEST}/batch", files=[("files", (f"traced-{unique}.txt",
                                                                        f"A traced line {unique}. ".encode() * 40,
                                                                        "text/plain"))])
        assert response.status_code == 202, response.text
        batch_id = response.json()["batch_id"]
        final = await eventually(lambda: status(http, batch_id), lambda s: s["status"] in TERMINAL, timeout=60)
    assert final["status"] == "completed", final

    def projected_outcome(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
        return of_batch(named(spans, "docintake.events.document.ingested process", STATUS, SpanKind.CONSUMER), batch_id)

    await eventually(lambda: _finished(exporter), lambda spans: bool(projected_outcome(spans)), timeout=15)
    spans = exporter.get_finished_spans()

    # The ingestor's consume span of the document, and every span of its trace.
    [consumed] = of_batch(named(spans, "docintake.events.document.queued process", INGESTOR, SpanKind.CONSUMER),
                          batch_id)
    document_id = consumed.attributes[DOCUMENT_ID]
    trace = [span for span in spans if span.context.trace_id == consumed.context.trace_id]
    assert {service(span) for span in trace} == {GATEWAY, INGESTOR, STATUS}

    # Gateway: the upload's HTTP span starts the trace; DocumentQueued is created and published within it.
    [root] = [span for span in trace if span.parent is None]
    assert (service(root), root.kind, root.name) == (GATEWAY, SpanKind.SERVER, f"POST {INGEST}/batch")
    created = parent_of(consumed, trace)
    assert (service(created), created.kind, created.name) == \
        (GATEWAY, SpanKind.PRODUCER, "docintake.events.document.queued create")
    assert parent_of(created, trace) is root
    assert [parent_of(span, trace) for span in named(trace, "docintake.events.document.queued publish", GATEWAY,
                                                     SpanKind.PRODUCER)] == [created]

    # Ingestor: fetch, parse and write inside the consume span, naming the batch and the document.
    for step in ("fetch", "parse", "write"):
        [span] = named(trace, step, INGESTOR, SpanKind.INTERNAL)
        assert parent_of(span, trace) is consumed, step
        assert span.attributes is not None
        assert (span.attributes[BATCH_ID], span.attributes[DOCUMENT_ID]) == (batch_id, document_id), step
    fetch, parse, write = (named(trace, step, INGESTOR, SpanKind.INTERNAL)[0] for step in ("fetch", "parse", "write"))
    assert fetch.end_time <= parse.start_time and parse.end_time <= write.start_time

    # The outcome is published from the consume span, and the status service projects it in a child of that.
    [outcome] = named(trace, "docintake.events.document.ingested create", INGESTOR, SpanKind.PRODUCER)
    assert parent_of(outcome, trace) is consumed
    [published] = named(trace, "docintake.events.document.ingested publish", INGESTOR, SpanKind.PRODUCER)
    assert parent_of(published, trace) is outcome
    [projected] = projected_outcome(trace)
    assert parent_of(projected, trace) is outcome
    assert projected.attributes is not None and projected.attributes[DOCUMENT_ID] == document_id


async def _finished(exporter: InMemorySpanExporter) -> tuple[ReadableSpan, ...]:
    return exporter.get_finished_spans()

"""ingest_document against small fakes of object storage, the knowledge graph and the parser pool."""

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from docintake.contracts.events import DocumentFailed, DocumentIngested
from docintake.ingestor.domain import failures
from docintake.ingestor.domain.document import ParsedDocument
from docintake.ingestor.domain.failures import (
    GRAPH_UNAVAILABLE,
    GRAPH_WRITE_FAILED,
    INTERNAL_ERROR,
    METADATA_INVALID,
    OBJECT_MISSING,
    STORAGE_UNAVAILABLE,
    IngestError,
    TransientFailure,
)
from docintake.ingestor.service_layer.ingest import ingest_document
from docintake.ingestor.service_layer.ports import Dependencies
from docintake.platform.errors import GraphRefused, GraphUnavailable, ObjectMissing, StorageUnavailable
from tests.unit.ingestor.fakes import PARSED, FakeGraph, FakeStorage, parser, queued


@pytest.fixture
def deps(tmp_path):
    return Dependencies(
        storage=FakeStorage(), graph=FakeGraph(), parse=parser(), work_dir=tmp_path, chunk_size=500, chunk_overlap=50
    )


def failure_of(outcome) -> tuple[str, str]:
    assert isinstance(outcome, DocumentFailed), outcome
    return outcome.data.error_code, outcome.data.message


async def test_a_parsed_document_is_written_and_reported_ingested(deps):
    event = queued()

    outcome = await ingest_document(event, deps)

    assert isinstance(outcome, DocumentIngested)
    assert (outcome.batch_id, outcome.document_id) == (event.batch_id, event.document_id)
    assert outcome.data.detected_type == "markdown" and outcome.data.characters == PARSED.characters
    [(document_id, batch_id, metadata, parsed, chunks)] = deps.graph.written
    assert (document_id, batch_id, metadata.author, parsed) == (event.document_id, str(event.batch_id), "Ada", PARSED)
    assert len(chunks) == outcome.data.chunks > 1
    assert not any(deps.work_dir.iterdir())  # the downloaded copy is gone


async def test_invalid_metadata_fails_the_document_before_it_is_fetched(deps):
    outcome = await ingest_document(queued(date_created="someday"), deps)

    code, message = failure_of(outcome)
    assert code == METADATA_INVALID and "date_created" in message
    assert deps.storage.downloads == [] and deps.graph.written == []


async def test_a_file_the_parser_cannot_read_fails_with_the_parsers_reason(deps):
    deps.parse = parser(IngestError(failures.CORRUPT_FILE, "The PDF could not be read"))

    outcome = await ingest_document(queued(), deps)

    assert failure_of(outcome) == (failures.CORRUPT_FILE, "The PDF could not be read")
    assert outcome.data.retryable is False and deps.graph.written == []


async def test_a_parser_whose_process_died_fails_the_document_as_the_pool_says(deps):
    deps.parse = parser(IngestError(failures.PARSER_CRASHED, "The parser processes stopped", retryable=True))

    outcome = await ingest_document(queued(), deps)

    assert failure_of(outcome)[0] == failures.PARSER_CRASHED and outcome.data.retryable is True


async def test_a_crashing_parser_fails_the_document_at_once_and_logs_the_traceback(deps):
    deps.parse = parser(KeyError("xref"))

    with capture_logs() as logs:
        outcome = await ingest_document(queued(), deps)

    code, message = failure_of(outcome)
    assert code == INTERNAL_ERROR and "KeyError" in message and "xref" in message
    assert any(entry["log_level"] == "error" and entry.get("exc_info") for entry in logs), logs
    assert deps.graph.written == []


async def test_a_write_the_graph_refuses_fails_the_document(deps):
    refusal = GraphRefused("Neo.ClientError.Statement.TypeError", "Property values can only be of primitive types")
    deps.graph = FakeGraph(failure=refusal)

    with capture_logs() as logs:
        outcome = await ingest_document(queued(), deps)

    code, message = failure_of(outcome)
    assert code == GRAPH_WRITE_FAILED and "primitive types" in message
    assert any(entry["log_level"] == "error" and entry.get("exc_info") for entry in logs), logs


@pytest.mark.parametrize(
    ("storage", "graph", "code"),
    [
        (FakeStorage(StorageUnavailable("connection refused")), FakeGraph(), STORAGE_UNAVAILABLE),
        (FakeStorage(), FakeGraph(GraphUnavailable("no route to Neo4j")), GRAPH_UNAVAILABLE),
    ],
)
async def test_a_server_out_of_reach_is_a_transient_failure(deps, storage, graph, code):
    deps.storage, deps.graph = storage, graph

    with pytest.raises(TransientFailure) as caught:
        await ingest_document(queued(), deps)

    assert caught.value.code == code


async def test_an_object_gone_from_storage_fails_the_document(deps):
    deps.storage = FakeStorage(ObjectMissing("batches/x"))

    assert failure_of(await ingest_document(queued(), deps))[0] == OBJECT_MISSING


async def test_a_document_of_a_cancelled_batch_is_skipped_without_an_outcome(deps):
    event = queued()
    deps.graph.cancelled.add(str(event.batch_id))

    assert await ingest_document(event, deps) is None
    assert deps.storage.downloads == [] and deps.graph.written == []


async def test_a_document_whose_batch_is_cancelled_while_it_is_parsed_is_not_written(deps):
    event = queued()

    async def parse_during_cancellation(path: Path, filename_hint: str) -> ParsedDocument:
        deps.graph.cancelled.add(str(event.batch_id))
        return PARSED

    deps.parse = parse_during_cancellation

    assert await ingest_document(event, deps) is None
    assert deps.graph.written == []


async def test_a_redelivered_document_reports_its_outcome_under_the_same_event_id(deps):
    event = queued()

    first, again = await ingest_document(event, deps), await ingest_document(event, deps)

    assert first.event_id == again.event_id
    deps.parse = parser(IngestError(failures.CORRUPT_FILE, "damaged"))
    assert (await ingest_document(event, deps)).event_id == first.event_id  # one outcome per attempt


async def test_each_attempt_and_each_document_has_its_own_outcome_id(deps):
    event = queued(attempt=1)
    retried = event.model_copy(update={"data": event.data.model_copy(update={"attempt": 2})})
    other = queued(attempt=1)

    ids = {(await ingest_document(e, deps)).event_id for e in (event, retried, other)}

    assert len(ids) == 3

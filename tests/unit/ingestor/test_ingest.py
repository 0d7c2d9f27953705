"""ingest_document against small fakes of object storage, the knowledge graph and the parser pool."""

from pathlib import Path
from uuid import uuid4

import pytest
from structlog.testing import capture_logs

from docintake.contracts.events import DocumentFailed, DocumentIngested, DocumentRemoved
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


def failure_of(outcomes) -> tuple[str, str]:
    [outcome] = outcomes
    assert isinstance(outcome, DocumentFailed), outcome
    return outcome.data.error_code, outcome.data.message


async def test_a_parsed_document_is_written_and_reported_ingested(deps):
    event = queued()

    [outcome] = await ingest_document(event, deps)

    assert isinstance(outcome, DocumentIngested) and outcome.data.change == "added"
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

    outcomes = await ingest_document(queued(), deps)

    assert failure_of(outcomes) == (failures.CORRUPT_FILE, "The PDF could not be read")
    assert outcomes[0].data.retryable is False and deps.graph.written == []


async def test_a_parser_whose_process_died_fails_the_document_as_the_pool_says(deps):
    deps.parse = parser(IngestError(failures.PARSER_CRASHED, "The parser processes stopped", retryable=True))

    outcomes = await ingest_document(queued(), deps)

    assert failure_of(outcomes)[0] == failures.PARSER_CRASHED and outcomes[0].data.retryable is True


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

    assert await ingest_document(event, deps) == []
    assert deps.storage.downloads == [] and deps.graph.written == []


async def test_a_document_whose_batch_is_cancelled_while_it_is_parsed_is_not_written(deps):
    event = queued()

    async def parse_during_cancellation(path: Path, filename_hint: str) -> ParsedDocument:
        deps.graph.cancelled.add(str(event.batch_id))
        return PARSED

    deps.parse = parse_during_cancellation

    assert await ingest_document(event, deps) == []
    assert deps.graph.written == []


async def test_a_redelivered_document_reports_its_outcome_under_the_same_event_id(deps):
    event = queued()

    [first], [again] = await ingest_document(event, deps), await ingest_document(event, deps)

    assert first.event_id == again.event_id
    deps.parse = parser(IngestError(failures.CORRUPT_FILE, "damaged"))
    [third] = await ingest_document(event, deps)
    assert third.event_id == first.event_id  # one outcome per attempt


async def test_each_attempt_and_each_document_has_its_own_outcome_id(deps):
    event = queued(attempt=1)
    retried = event.model_copy(update={"data": event.data.model_copy(update={"attempt": 2})})
    other = queued(attempt=1)

    ids = {(await ingest_document(e, deps))[-1].event_id for e in (event, retried, other)}

    assert len(ids) == 3


def again_under_the_same_source(event, sha256: str | None = None):
    """Another upload (its own batch and document id) of the same source, with the same or other content."""
    ref = event.data.document
    ref = ref.model_copy(update={"document_id": uuid4(), "sha256": sha256 or ref.sha256})
    return event.model_copy(update={"batch_id": uuid4(), "document_id": ref.document_id,
                                    "data": event.data.model_copy(update={"document": ref})})


def not_to_be_parsed():
    return parser(AssertionError("parsed, though its source has this content"))


async def test_the_content_a_source_has_already_is_unchanged_and_neither_fetched_nor_parsed(deps):
    first = queued()
    [added] = await ingest_document(first, deps)
    deps.parse, deps.storage = not_to_be_parsed(), FakeStorage(AssertionError("fetched"))

    with capture_logs() as logs:
        [unchanged] = await ingest_document(again_under_the_same_source(first), deps)

    assert (added.data.change, unchanged.data.change) == ("added", "unchanged")
    assert unchanged.data.timings.parse_ms == unchanged.data.timings.fetch_ms == 0
    assert (unchanged.data.chunks, unchanged.data.characters) == (added.data.chunks, added.data.characters)
    assert len(deps.graph.written) == 1
    assert any(entry["event"] == "source has this content already; not parsed" for entry in logs)


async def test_new_content_under_a_source_replaces_its_version_and_the_removal_is_announced_first(deps):
    first = queued()
    await ingest_document(first, deps)

    removed, updated = await ingest_document(again_under_the_same_source(first, sha256="cd" * 32), deps)

    assert isinstance(removed, DocumentRemoved) and isinstance(updated, DocumentIngested)
    assert updated.data.change == "replaced" and updated.data.source_path == first.data.document.source_path
    assert (removed.data.reason, removed.data.sha256, removed.data.document_deleted) == (
        "replaced", first.data.document.sha256, True)
    assert removed.document_id == updated.document_id and removed.event_id != updated.event_id


async def test_a_redelivered_replacement_reports_what_its_write_did_under_the_same_event_ids(deps):
    first = queued()
    await ingest_document(first, deps)
    replacement = again_under_the_same_source(first, sha256="cd" * 32)
    written = await ingest_document(replacement, deps)
    deps.parse = not_to_be_parsed()

    told_again = await ingest_document(replacement, deps)  # its outcome may not have gone out: told again

    assert [(e.event_id, e.event_type) for e in told_again] == [(e.event_id, e.event_type) for e in written]
    assert told_again[0].data == written[0].data and told_again[1].data.change == "replaced"

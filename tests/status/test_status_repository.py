"""The projection over the real Neo4j store: any order converges, a duplicate changes nothing,
concurrent events of one batch serialize."""

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docintake.status.domain.progress import Batch
from docintake.status.domain.refusals import UnreadableRecord
from docintake.status.service_layer.process_manager import apply_event
from docintake.status.service_layer.projection import Outcome
from tests.support.status_events import T0, SyntheticBatch
from tests.unit.status.status_fakes import RecordingPublisher
from tests.unit.status.status_histories import delivered, live, lives, replayed


def progress(batch: Batch) -> dict:
    """What the record says about progress, leaving out the clock's and the completion's bookkeeping."""
    return {
        "created_at": batch.created_at,
        "manifest_known": batch.manifest_known,
        "status": batch.status,
        "completed_at": batch.completed_at,
        "items": {
            document_id: (item.attempt, item.state, item.ref, item.filename, item.error, item.error_code,
                          item.finished_at)
            for document_id, item in batch.documents.items()
        },
    }


@st.composite
def deliveries(draw):
    """A small batch's events with duplicates, in any order, and the same events in publishing order."""
    outcomes = draw(st.text(alphabet="if", min_size=1, max_size=4))
    synthetic = SyntheticBatch(size=len(outcomes), start=T0)
    events = synthetic.story(outcomes)
    if draw(st.booleans()):  # one document failed, was retried and ingested
        events += [synthetic.queued(0, attempt=2), synthetic.ingested(0, attempt=2)]
    duplicates = draw(st.lists(st.sampled_from(events), max_size=3))
    return synthetic.batch_id, events, draw(st.permutations(events + duplicates))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delivery=deliveries())
async def test_every_order_converges_in_the_store(repo, delivery):
    batch_id, events, shuffled = delivery
    publish = RecordingPublisher()

    outcomes = [await apply_event(event, repo, publish) for event in shuffled]

    expected = Batch(batch_id)
    for event in events:
        expected.apply(event)
    stored = await repo.get(batch_id)
    assert progress(stored) == progress(expected)
    assert outcomes.count(Outcome.DUPLICATE) == len(shuffled) - len(events)
    # A batch that finished and was reopened by a newer attempt announces each outcome under its own id.
    assert stored.completion_published
    assert publish.events[-1].data.status == stored.status
    assert len({event.event_id for event in publish.events}) == len(publish.events)


async def test_a_duplicate_event_changes_nothing(repo, settings):
    synthetic = SyntheticBatch(size=2)
    publish = RecordingPublisher()
    for event in [synthetic.created(), synthetic.ingested(0)]:
        await apply_event(event, repo, publish)
    before = await _batch_node(repo, synthetic.batch_id)
    ingested_again = synthetic.ingested(1)
    await apply_event(ingested_again, repo, publish)
    after_first = await _batch_node(repo, synthetic.batch_id)

    assert await apply_event(ingested_again, repo, publish) is Outcome.DUPLICATE
    assert await _batch_node(repo, synthetic.batch_id) == after_first != before


async def test_concurrent_events_of_one_batch_all_apply(repo):
    synthetic = SyntheticBatch(size=40)
    events = synthetic.story("i" * 30 + "f" * 10)
    publish = RecordingPublisher()

    outcomes = await asyncio.gather(*(apply_event(event, repo, publish) for event in events))

    assert set(outcomes) == {Outcome.APPLIED}
    stored = await repo.get(synthetic.batch_id)
    assert (stored.status, stored.counts.ingested, stored.counts.failed) == ("partial_failure", 30, 10)
    assert len(publish.events) == 1


async def _batch_node(repo, batch_id) -> dict:
    """Every property of the batch node and its items, as stored."""
    result = await repo._driver.execute_query(
        "MATCH (b:IngestBatch {batch_id: $id}) OPTIONAL MATCH (b)-[:HAS_ITEM]->(i) "
        "RETURN b {.*} AS batch, collect(i {.*}) AS items", id=str(batch_id))
    record = result.records[0]
    return {"batch": record["batch"], "items": sorted(record["items"], key=lambda item: item["document_id"])}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(life=lives(), seed=st.integers())
async def test_replaying_a_batchs_events_into_neo4j_gives_the_status_the_service_showed(repo, life, seed):
    """The life is lived on the in-memory store; its events, shuffled and duplicated, replayed into Neo4j."""
    fates, retry, _ = life
    lived = await live(fates, retry)
    assert await replayed(lived, delivered(lived.events, seed), repo) == lived.status


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def too_deep_ref(batch: SyntheticBatch) -> str:
    return json.dumps({**batch.refs[0].model_dump(mode="json"), "metadata": nested(500)})


# Ways a stored record may not load back, each written with raw Cypher: (the part spoilt, Cypher, parameters).
SPOILS = [
    ("item", "SET i.ref = '{not json'", lambda batch: {}),
    ("item", "SET i.ref = $ref", lambda batch: {"ref": too_deep_ref(batch)}),
    ("item", "SET i.state = 'exploded'", lambda batch: {}),
    ("item", "REMOVE i.attempt", lambda batch: {}),
    ("the batch node", "SET b.created_at = 'yesterday'", lambda batch: {}),
    ("the batch node", "SET b.cancelled_at = 1e300", lambda batch: {}),
]


@pytest.mark.parametrize(("part", "spoil", "parameters"), SPOILS, ids=[spoil for _, spoil, _ in SPOILS])
async def test_a_record_that_does_not_load_back_is_quarantined_not_deleted(repo, part, spoil, parameters):
    synthetic = SyntheticBatch(size=1)
    publish = RecordingPublisher()
    for event in (synthetic.created(), synthetic.queued(0)):
        await apply_event(event, repo, publish)
    await repo._driver.execute_query(
        f"MATCH (b:IngestBatch {{batch_id: $id}})-[:HAS_ITEM]->(i:IngestItem) {spoil}",
        id=str(synthetic.batch_id), **parameters(synthetic))

    with pytest.raises(UnreadableRecord) as unreadable:
        await repo.get(synthetic.batch_id)

    assert unreadable.value.reason.startswith(part)
    result = await repo._driver.execute_query(
        "MATCH (b:IngestBatch {batch_id: $id})-[:HAS_ITEM]->(i:IngestItem) "
        "RETURN labels(b) AS labels, b.quarantined_reason AS reason, b.quarantined_detail AS detail, count(i) AS items",
        id=str(synthetic.batch_id))
    [record] = result.records
    assert "QuarantinedIngestBatch" in record["labels"]
    assert (record["reason"], record["items"]) == (unreadable.value.reason, 1)
    assert record["detail"]
    with pytest.raises(UnreadableRecord):
        await apply_event(synthetic.ingested(0), repo, publish)

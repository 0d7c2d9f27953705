"""The ProgressRepository contract, held by the in-memory fake the unit tests use and by the Neo4j
adapter alike, so that the fake cannot drift from the real store."""

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository
from docintake.status.domain.paging import PageMark
from docintake.status.domain.progress import Batch, DocumentState
from docintake.status.domain.refusals import BatchNotFound, UnreadableRecord
from tests.support.status_events import SyntheticBatch

LAST_ID = UUID(int=2**128 - 1)
POISONED = "a record no reader can load back"


@pytest.fixture(params=["in_memory", "neo4j"])
def store(request):
    """Each contract test runs against both; the Neo4j one is shared with other tests (random batch ids)."""
    if request.param == "in_memory":
        return InMemoryProgressRepository()
    return request.getfixturevalue("repo")


@pytest.fixture
def base():
    """A moment of the past no other test's batch shares, so that time-based queries can be checked."""
    return datetime(2001, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(3000), seconds=random.randrange(86400))


async def poison(store, batch_id) -> None:
    """Spoil a stored record through the adapter's back door: what a bug, an old version or a hand edit could leave."""
    if isinstance(store, InMemoryProgressRepository):
        store.quarantined[batch_id] = POISONED
        return
    await store._driver.execute_query(
        "MATCH (:IngestBatch {batch_id: $id})-[:HAS_ITEM]->(i:IngestItem) SET i.ref = '{not json'", id=str(batch_id))


async def set_aside_reason(store, batch_id) -> str | None:
    """Why the adapter keeps the record set aside, or None; the record itself is kept."""
    if isinstance(store, InMemoryProgressRepository):
        assert batch_id in store.batches
        return store.quarantined.get(batch_id)
    result = await store._driver.execute_query(
        "MATCH (b:IngestBatch {batch_id: $id}) RETURN b.quarantined_reason AS reason", id=str(batch_id))
    [record] = result.records
    return record["reason"]


async def fold(store, events):
    def apply(batch: Batch, claimed) -> set[UUID]:
        for event in events:
            if event.event_id in claimed:
                batch.apply(event)
        return set(claimed)

    return await store.apply_once([event.event_id for event in events], events[0].batch_id, apply)


async def test_an_unknown_batch_is_none_and_cannot_be_updated(store):
    unknown = SyntheticBatch().batch_id
    assert await store.get(unknown) is None
    with pytest.raises(BatchNotFound):
        await store.update(unknown, lambda batch: None)


async def test_events_are_claimed_once_and_the_change_is_kept_whole(store, base):
    synthetic = SyntheticBatch(size=2, start=base)
    created, queued = synthetic.created(), synthetic.queued(0)

    change = await fold(store, [created, queued])
    assert change.outcome == {created.event_id, queued.event_id}
    assert await fold(store, [created, queued]) is None
    ingested = synthetic.ingested(1)
    assert (await fold(store, [queued, ingested])).outcome == {ingested.event_id}

    stored = await store.get(synthetic.batch_id)
    expected = Batch(synthetic.batch_id)
    for event in (created, queued, ingested):
        expected.apply(event)
    assert stored == expected
    assert stored.documents[synthetic.refs[0].document_id].queued


async def test_a_change_that_raises_leaves_the_record_as_it_was(store, base):
    synthetic = SyntheticBatch(size=1, start=base)
    await fold(store, [synthetic.created()])
    before = await store.get(synthetic.batch_id)

    def broken(batch: Batch) -> None:
        batch.mark_completion_published(batch.completion_round)
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await store.update(synthetic.batch_id, broken)
    assert await store.get(synthetic.batch_id) == before
    # Nor does the next change start from what the broken one did.
    assert (await store.update(synthetic.batch_id, lambda batch: batch.completion_published)).outcome is False


@pytest.fixture
def replica(store, request):
    """A second process's view of the same store: the Neo4j adapter connected again (the fake is one process)."""
    return store if isinstance(store, InMemoryProgressRepository) else request.getfixturevalue("another_repo")


async def test_each_change_starts_from_the_stored_record_whoever_changed_it_last(store, replica, base):
    synthetic = SyntheticBatch(size=4, start=base)
    created, first, second = synthetic.created(), synthetic.ingested(0), synthetic.ingested(1)
    third = synthetic.failed(2)
    await fold(store, [created])
    await fold(store, [first])
    await fold(replica, [second])
    change = await fold(store, [third])

    expected = Batch(synthetic.batch_id)
    for event in (created, first, second, third):
        expected.apply(event)
    assert change.batch == expected and await store.get(synthetic.batch_id) == expected
    assert (change.batch.counts.ingested, change.batch.counts.failed, change.batch.counts.pending) == (2, 1, 1)


async def test_pages_are_newest_first_filtered_and_continue_after_a_mark(store, base):
    batches = [SyntheticBatch(size=1, start=base + timedelta(seconds=n)) for n in range(3)]
    for synthetic, outcome in zip(batches, "fif", strict=True):
        await fold(store, synthetic.story(outcome))
    mark = PageMark(base + timedelta(seconds=10), LAST_ID)

    newest_first = await store.page(None, 3, mark)
    assert [batch.batch_id for batch in newest_first] == [synthetic.batch_id for synthetic in reversed(batches)]
    failed = await store.page("failed", 2, mark)
    assert [batch.batch_id for batch in failed] == [batches[2].batch_id, batches[0].batch_id]
    after_first = await store.page(None, 1, PageMark(base + timedelta(seconds=2), batches[2].batch_id))
    assert [batch.batch_id for batch in after_first] == [batches[1].batch_id]


async def test_stalled_batches_are_those_quiet_since_the_cutoff(store, base):
    quiet = SyntheticBatch(size=2, start=base)
    await fold(store, [quiet.created(), quiet.ingested(0)])
    busy = SyntheticBatch(size=1, start=base + timedelta(seconds=30))
    await fold(store, [busy.created()])
    finished = SyntheticBatch(size=1, start=base)
    await fold(store, finished.story("i"))
    unannounced = SyntheticBatch(size=1, start=base)
    await fold(store, [unannounced.ingested(0)])

    stalled = set(await store.stalled_batch_ids(base + timedelta(seconds=10)))

    assert {quiet.batch_id, unannounced.batch_id} <= stalled
    assert not {busy.batch_id, finished.batch_id} & stalled


async def test_finished_batches_await_their_completion_until_marked(store, base):
    synthetic = SyntheticBatch(size=1, start=base)
    await fold(store, synthetic.story("i"))
    settled = base + timedelta(seconds=10)

    assert synthetic.batch_id not in await store.batch_ids_awaiting_completion(base)
    assert synthetic.batch_id in await store.batch_ids_awaiting_completion(settled)
    await store.update(synthetic.batch_id, lambda batch: batch.mark_completion_published(batch.completion_round))
    assert synthetic.batch_id not in await store.batch_ids_awaiting_completion(settled)


async def test_pending_totals_count_the_unfinished_documents(store, base):
    bytes_before, documents_before = await store.pending_totals()
    synthetic = SyntheticBatch(size=3, start=base)
    await fold(store, [synthetic.created(), synthetic.ingested(0)])
    assert await store.pending_totals() == (bytes_before + 2000, documents_before + 2)
    stored = await store.get(synthetic.batch_id)
    assert [doc.state for doc in stored.documents.values()].count(DocumentState.QUEUED) == 2


async def test_a_tenants_totals_are_its_unfinished_documents_and_what_it_uploaded_since(store, base):
    tenant = f"tenant-{uuid4().hex[:8]}"
    earlier = SyntheticBatch(size=2, start=base - timedelta(days=2), tenant=tenant)
    today = SyntheticBatch(size=3, start=base, tenant=tenant)
    another_tenants = SyntheticBatch(size=4, start=base)
    await fold(store, [earlier.created(), earlier.ingested(0), earlier.ingested(1)])
    await fold(store, [today.created(), today.ingested(0)])
    await fold(store, [another_tenants.created()])
    assert await store.tenant_totals(tenant, base - timedelta(hours=1)) == (2000, 2, 3000)
    assert await store.tenant_totals(tenant, base - timedelta(days=3)) == (2000, 2, 5000)


async def test_a_tenants_batches_are_listed_apart_from_the_others(store, base):
    tenant = f"tenant-{uuid4().hex[:8]}"
    mine = [SyntheticBatch(size=1, start=base + timedelta(seconds=n), tenant=tenant) for n in range(2)]
    theirs = SyntheticBatch(size=1, start=base + timedelta(seconds=5))
    for synthetic in [*mine, theirs]:
        await fold(store, [synthetic.created()])
    listed = await store.page(None, 10, None, tenant)
    assert [batch.batch_id for batch in listed] == [mine[1].batch_id, mine[0].batch_id]
    assert {batch.tenant for batch in listed} == {tenant}
    everyones = await store.page(None, 3, PageMark(base + timedelta(seconds=10), LAST_ID))
    assert [batch.batch_id for batch in everyones] == [theirs.batch_id, mine[1].batch_id, mine[0].batch_id]


async def test_an_unreadable_record_is_set_aside_with_its_reason_and_refused_by_id(store, base):
    synthetic = SyntheticBatch(size=2, start=base)
    created = synthetic.created()
    await fold(store, [created, synthetic.queued(0)])
    await poison(store, synthetic.batch_id)

    with pytest.raises(UnreadableRecord) as unreadable:
        await store.get(synthetic.batch_id)
    reason = unreadable.value.reason
    assert reason and reason in str(unreadable.value)
    assert await set_aside_reason(store, synthetic.batch_id) == reason
    with pytest.raises(UnreadableRecord):
        await fold(store, [synthetic.ingested(1)])
    with pytest.raises(UnreadableRecord):
        await store.update(synthetic.batch_id, lambda batch: batch.mark_completion_published(0))
    assert await fold(store, [created]) is None  # an event applied before is still a duplicate
    with pytest.raises(UnreadableRecord) as again:
        await store.get(synthetic.batch_id)
    assert again.value.reason == reason


async def test_an_unreadable_record_is_left_out_of_pages_and_chores(store, base):
    batches = [SyntheticBatch(size=1, start=base + timedelta(seconds=n)) for n in range(3)]
    for synthetic in batches:
        await fold(store, [synthetic.created(), synthetic.queued(0)])
    pending_before = await store.pending_totals()
    await poison(store, batches[1].batch_id)
    mark = PageMark(base + timedelta(seconds=10), LAST_ID)

    # The page is as long as asked, past the record left out.
    assert [batch.batch_id for batch in await store.page(None, 2, mark)] == [batches[2].batch_id, batches[0].batch_id]
    after_newest = PageMark(base + timedelta(seconds=2), batches[2].batch_id)
    assert [batch.batch_id for batch in await store.page(None, 1, after_newest)] == [batches[0].batch_id]
    assert batches[1].batch_id not in await store.stalled_batch_ids(base + timedelta(days=1))
    assert await store.pending_totals() == (pending_before[0] - 1000, pending_before[1] - 1)
    assert await set_aside_reason(store, batches[1].batch_id)


async def test_a_finished_unreadable_record_awaits_no_completion(store, base):
    synthetic = SyntheticBatch(size=1, start=base)
    await fold(store, synthetic.story("i"))
    await poison(store, synthetic.batch_id)
    with pytest.raises(UnreadableRecord):
        await store.get(synthetic.batch_id)
    assert synthetic.batch_id not in await store.batch_ids_awaiting_completion(base + timedelta(days=1))


async def test_the_ids_of_events_applied_long_ago_are_forgotten_and_a_redelivery_then_changes_nothing(store, base):
    synthetic = SyntheticBatch(size=2, start=base)
    events = [synthetic.created(), synthetic.queued(0), synthetic.ingested(0)]
    await fold(store, events)
    record = await store.get(synthetic.batch_id)

    await store.prune_applied_events(datetime.now(UTC) - timedelta(hours=1))
    assert await fold(store, events) is None  # applied within the hour: still known

    assert await store.prune_applied_events(datetime.now(UTC) + timedelta(seconds=1)) >= len(events)
    redelivered = await fold(store, events)
    assert redelivered is not None and redelivered.outcome == {event.event_id for event in events}
    assert await store.get(synthetic.batch_id) == record


async def test_records_of_batches_finished_and_announced_before_the_time_are_forgotten(store, base):
    announced, unannounced, unfinished = (SyntheticBatch(size=1, start=base) for _ in range(3))
    for synthetic in (announced, unannounced):
        await fold(store, synthetic.story("i"))
    await fold(store, [unfinished.created(), unfinished.queued(0)])
    await store.update(announced.batch_id, lambda batch: batch.mark_completion_published(batch.completion_round))
    finished = base + timedelta(seconds=10)

    await store.forget_finished_batches(base)
    assert await store.get(announced.batch_id) is not None  # finished later than that
    await store.forget_finished_batches(finished)
    assert await store.get(announced.batch_id) is None
    assert await store.get(unannounced.batch_id) is not None  # its completion still to be published
    assert await store.get(unfinished.batch_id) is not None

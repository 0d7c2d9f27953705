"""Every state the status service shows comes from events: replaying a batch's events gives the same status."""

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository
from docintake.status.domain.progress import Batch
from tests.unit.status.status_histories import delivered, live, lives, replayed


@settings(max_examples=150, deadline=None)
@given(life=lives(), seed=st.integers())
async def test_replaying_a_batchs_events_shuffled_and_duplicated_gives_the_same_status(life, seed):
    fates, retry, _ = life
    lived = await live(fates, retry)
    assert await replayed(lived, delivered(lived.events, seed), InMemoryProgressRepository()) == lived.status


@settings(max_examples=50, deadline=None)
@given(life=lives(cancel=True))
async def test_replaying_a_batchs_events_in_order_gives_the_same_status_with_cancels_too(life):
    lived = await live(*life)
    assert await replayed(lived, lived.events, InMemoryProgressRepository()) == lived.status


@settings(max_examples=100, deadline=None)
@given(life=lives(cancel=True), seed=st.integers())
async def test_the_counts_the_fold_keeps_are_those_a_fresh_count_of_the_documents_gives(life, seed):
    lived = await live(*life)
    batch = Batch(lived.batch_id)
    for event in delivered(lived.events, seed):
        batch.apply(event)
        assert batch.counts == replace(batch).counts  # a copy counts its documents anew
    assert {document.document_id for document in batch.changed_documents} == set(batch.documents)

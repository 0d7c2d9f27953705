"""Every state the status service shows comes from events: replaying a batch's events gives the same status."""

from hypothesis import given, settings
from hypothesis import strategies as st

from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository
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

"""Events of one batch that arrive while a change is under way go together in the next change."""

import asyncio

from docintake.platform.errors import GraphUnavailable
from docintake.status.adapters.per_batch_grouping import PerBatchGrouping
from docintake.status.service_layer.projection import Outcome
from tests.support.status_events import SyntheticBatch


class Groups:
    def __init__(self, failing=None) -> None:
        self.groups: list[list] = []
        self.failing = failing

    async def apply(self, events):
        self.groups.append(list(events))
        await asyncio.sleep(0.01)
        if self.failing and any(self.failing(event) for event in events):
            raise self.failing(next(event for event in events if self.failing(event)))
        return [Outcome.APPLIED] * len(events)


async def test_events_of_one_batch_are_grouped_and_batches_proceed_side_by_side():
    groups, first, second = Groups(), SyntheticBatch(size=10), SyntheticBatch(size=10)
    lanes = PerBatchGrouping(groups.apply)
    events = [first.ingested(i) for i in range(10)] + [second.ingested(i) for i in range(10)]

    outcomes = await asyncio.gather(*(lanes.apply(event) for event in events))

    assert outcomes == [Outcome.APPLIED] * 20
    assert sorted(len(group) for group in groups.groups) == [10, 10]
    assert all(len({event.batch_id for event in group}) == 1 for group in groups.groups)


async def test_an_event_at_fault_fails_alone_and_an_outage_fails_the_whole_group():
    synthetic = SyntheticBatch(size=4)
    events = [synthetic.ingested(i) for i in range(4)]
    groups = Groups(failing=lambda event: ValueError("bug") if event is events[2] else None)
    lanes = PerBatchGrouping(groups.apply)
    outcomes = await asyncio.gather(*(lanes.apply(event) for event in events), return_exceptions=True)
    assert [type(outcome).__name__ for outcome in outcomes] == ["Outcome", "Outcome", "ValueError", "Outcome"]

    lanes = PerBatchGrouping(Groups(failing=lambda event: GraphUnavailable("down")).apply)
    outcomes = await asyncio.gather(*(lanes.apply(event) for event in events), return_exceptions=True)
    assert all(isinstance(outcome, GraphUnavailable) for outcome in outcomes)

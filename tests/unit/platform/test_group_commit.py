"""Items applied in groups: a lone one at once, the ones that arrive meanwhile together, a fault alone."""

import asyncio

import pytest

from docintake.platform.errors import GraphRefused, GraphUnavailable
from docintake.platform.group_commit import GroupCommit


class Recorder:
    """Applies groups of numbers, each group waiting for `release`; refuses the number `refused`."""

    def __init__(self, refused: int | None = None, error: Exception | None = None):
        self.groups: list[list[int]] = []
        self.release = asyncio.Event()
        self.refused, self.error = refused, error or GraphRefused("Neo.ClientError.Test", "refused")

    async def apply(self, items):
        self.groups.append(list(items))
        await self.release.wait()
        if self.refused in items:
            raise self.error
        return [item * 10 for item in items]


async def test_a_lone_item_is_applied_at_once_and_the_ones_that_come_meanwhile_go_together_up_to_the_size():
    recorder = Recorder()
    commit = GroupCommit(recorder.apply, max_size=3)

    first = asyncio.create_task(commit.apply(0))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert recorder.groups == [[0]]  # applied without waiting for company
    rest = [asyncio.create_task(commit.apply(n)) for n in range(1, 6)]
    await asyncio.sleep(0)
    recorder.release.set()

    assert await asyncio.gather(first, *rest) == [0, 10, 20, 30, 40, 50]
    assert recorder.groups == [[0], [1, 2, 3], [4, 5]]


async def test_a_refused_group_is_applied_again_one_at_a_time_and_only_the_item_at_fault_fails():
    recorder = Recorder(refused=2)
    recorder.release.set()
    commit = GroupCommit(recorder.apply)
    blocker = asyncio.create_task(commit.apply(0))
    await asyncio.sleep(0)

    outcomes = await asyncio.gather(*(commit.apply(n) for n in (1, 2, 3)), return_exceptions=True)

    assert await blocker == 0
    assert outcomes[0] == 10 and outcomes[2] == 30
    assert isinstance(outcomes[1], GraphRefused)
    assert recorder.groups[1:] == [[1, 2, 3], [1], [2], [3]]


async def test_an_unreachable_graph_fails_the_whole_group_for_each_caller_to_retry():
    recorder = Recorder(refused=2, error=GraphUnavailable("down"))
    recorder.release.set()
    commit = GroupCommit(recorder.apply)
    blocker = asyncio.create_task(commit.apply(0))
    await asyncio.sleep(0)

    outcomes = await asyncio.gather(*(commit.apply(n) for n in (1, 2, 3)), return_exceptions=True)

    await blocker
    assert all(isinstance(outcome, GraphUnavailable) for outcome in outcomes)
    assert recorder.groups[1:] == [[1, 2, 3]]


async def test_keys_are_applied_side_by_side():
    recorder = Recorder()
    commit = GroupCommit(recorder.apply)
    a = asyncio.create_task(commit.apply(1, key="a"))
    b = asyncio.create_task(commit.apply(2, key="b"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert sorted(recorder.groups) == [[1], [2]]  # neither waits for the other's group
    recorder.release.set()
    assert await asyncio.gather(a, b) == [10, 20]


@pytest.mark.parametrize("size", [0, -1])
async def test_a_size_below_one_means_one(size):
    recorder = Recorder()
    recorder.release.set()
    commit = GroupCommit(recorder.apply, max_size=size)
    assert await asyncio.gather(commit.apply(1), commit.apply(2)) == [10, 20]
    assert recorder.groups == [[1], [2]]

"""Whole lives of batches run through the status service's use cases, and their replay.

A life is told by the events from outside (the gateway's, the ingestors') and by the events the
status service published itself (the sweeper's verdicts, retries, cancels): replaying all of them
into an empty store must give the same status.
"""

import random
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from hypothesis import strategies as st

from docintake.contracts.api import BatchStatus
from docintake.contracts.events import Event
from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository
from docintake.status.service_layer import commands, process_manager, queries
from docintake.status.service_layer.batch_locks import BatchLocks
from docintake.status.service_layer.ports import ProgressRepository
from tests.support.status_events import T0, SyntheticBatch
from tests.unit.status.status_fakes import RecordingPublisher

TIMEOUT_SECONDS = 60
# What happens to each document: ingested (its source added), updated (its source replaced), unchanged,
# failed, stalled (queued, no outcome), never queued, a late outcome after the sweeper gave up on it, OCR'd
# (handed to OCR, its progress told, then ingested), or stalled in OCR (its progress told, no outcome).
FATES = "iurfsnlop"
CHANGES = {"i": "added", "r": "replaced", "u": "unchanged"}


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(seconds=30)

    def __call__(self):
        return self.now


@dataclass
class Life:
    batch_id: UUID
    events: list[Event] = field(default_factory=list)  # from outside and from the status service
    status: BatchStatus | None = None
    now: object = None


@st.composite
def lives(draw, cancel=False):
    return draw(st.text(alphabet=FATES, min_size=1, max_size=4)), draw(st.booleans()), cancel and draw(st.booleans())


async def live(fates: str, retry: bool, cancel: bool = False) -> Life:
    """Run the batch through the use cases on an in-memory store; the events that told its life."""
    repo, publish, clock = InMemoryProgressRepository(), RecordingPublisher(), Clock()
    synthetic = SyntheticBatch(size=len(fates), start=T0)
    outside: list[Event] = [synthetic.created()]
    for index, fate in enumerate(fates):
        if fate != "n":
            outside.append(synthetic.queued(index))
        if fate in "op":
            outside += [synthetic.ocr_requested(index, pages=2), synthetic.progressed(index, 1, 3)]
        if fate == "o":
            outside += [synthetic.progressed(index, 3, 3), synthetic.ingested(index)]
        if fate in CHANGES:
            outside.append(synthetic.ingested(index, change=CHANGES[fate]))
        elif fate == "f":
            outside.append(synthetic.failed(index))

    async def tell(*events: Event) -> None:
        for event in events:
            await process_manager.apply_event(event, repo, publish)

    await tell(*outside)
    clock.now += timedelta(seconds=TIMEOUT_SECONDS + 10)
    await process_manager.sweep_stalled_documents(repo, clock, publish, TIMEOUT_SECONDS)
    late = [synthetic.ingested(index, at=clock.now + timedelta(seconds=1)) for index, fate in enumerate(fates)
            if fate == "l"]
    await tell(*late)
    outside += late
    clock.now += timedelta(seconds=5)
    unfinished = (await queries.batch_status(synthetic.batch_id, repo, clock)).status == "in_progress"
    if cancel and unfinished:
        await commands.cancel_batch(synthetic.batch_id, repo, clock, publish, BatchLocks())
    elif retry and (await queries.batch_status(synthetic.batch_id, repo, clock)).failed_count:
        retried = await commands.retry_failed_documents(synthetic.batch_id, repo, clock, publish, BatchLocks())
        second = [synthetic.ingested(index, attempt=2, at=clock.now + timedelta(seconds=2))
                  for index, ref in enumerate(synthetic.refs) if retried.documents[ref.document_id].attempt == 2]
        await tell(*second)
        outside += second
    return Life(synthetic.batch_id, outside + publish.events,
                await queries.batch_status(synthetic.batch_id, repo, clock), clock.now)


def delivered(events: list[Event], seed: int) -> list[Event]:
    """The events as a broker may deliver them: some twice, all in any order."""
    chance = random.Random(seed)
    copies = events + chance.sample(events, k=chance.randint(0, len(events)))
    chance.shuffle(copies)
    return copies


async def replayed(life: Life, events: list[Event], repo: ProgressRepository) -> BatchStatus:
    """The status after folding `events` into `repo`, which has never seen the batch."""
    publish = RecordingPublisher()
    for event in events:
        await process_manager.apply_event(event, repo, publish)
    return await queries.batch_status(life.batch_id, repo, lambda: life.now)

"""What the entrypoints share while the service runs: settings, the store, the broker and the clock."""

from dataclasses import dataclass
from functools import partial

from faststream.rabbit import RabbitBroker

from docintake.platform.messaging import publish
from docintake.status.repository import ProgressRepository
from docintake.status.services import Clock, Publish
from docintake.status.settings import StatusSettings
from docintake.status.shared_reads import SharedReads


@dataclass(frozen=True)
class Runtime:
    settings: StatusSettings
    repo: ProgressRepository
    broker: RabbitBroker
    clock: Clock
    # Reads the routes share with whoever asked the same a moment before.
    shared_reads: SharedReads

    @property
    def publish(self) -> Publish:
        return partial(publish, self.broker)

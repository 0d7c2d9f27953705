"""A recording publisher and a flaky store, for service-layer tests (the in-memory repository itself is
in the service's adapters)."""

from docintake.contracts.events import Event
from docintake.platform.errors import GraphUnavailable
from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.failing = False

    async def __call__(self, event: Event) -> None:
        if self.failing:
            raise ConnectionError("broker unreachable")
        self.events.append(event)

    def of_type(self, event_type: type[Event]) -> list[Event]:
        return [event for event in self.events if isinstance(event, event_type)]


class FlakyRepository(InMemoryProgressRepository):
    """A store that is unreachable for its first `outage` writes."""

    def __init__(self, outage: int) -> None:
        super().__init__()
        self.outage = outage

    async def apply_once(self, event_ids, batch_id, change):
        if self.outage:
            self.outage -= 1
            raise GraphUnavailable("Neo4j unavailable: connection refused")
        return await super().apply_once(event_ids, batch_id, change)

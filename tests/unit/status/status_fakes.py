"""A recording publisher, for service-layer tests (the in-memory repository is in the service's adapters)."""

from docintake.contracts.events import Event


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

"""Publishing the events a use case decided on: all confirmed, or the use case did not take effect."""

import asyncio
from collections.abc import Sequence

from docintake.contracts.events import Event
from docintake.status.domain.refusals import EventNotPublished
from docintake.status.service_layer.ports import Publish


async def publish_all(publish: Publish, events: Sequence[Event]) -> None:
    try:
        await asyncio.gather(*(publish(event) for event in events))
    except Exception as exc:  # noqa: BLE001 - whatever the broker client raised, the events are not confirmed
        raise EventNotPublished(f"the broker did not confirm {len(events)} event(s): {exc!r}") from exc

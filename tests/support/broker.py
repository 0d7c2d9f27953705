"""A plain AMQP listener on its own exclusive queue bound to docintake.events, as any subscriber would bind."""

import asyncio
import json
from contextlib import asynccontextmanager

import aio_pika

from docintake.contracts.events import Event, parse_event
from docintake.contracts.topology import EXCHANGE_NAME


class EventListener:
    def __init__(self, queue: aio_pika.abc.AbstractQueue):
        self._queue = queue
        self.events: list[dict] = []

    async def _next(self) -> bool:
        """Take one message if there is one; bodies that are not JSON events are not ours to judge here."""
        message = await self._queue.get(fail=False)
        if message is None:
            return False
        await message.ack()
        try:
            body = json.loads(message.body)
        except ValueError:
            return True
        if isinstance(body, dict) and "event_type" in body:
            self.events.append(body)
        return True

    async def collect(self, until, timeout: float = 30.0):
        """Gather events until `until(events)` is truthy and return what it returned; fails the test on timeout."""
        async def pump() -> None:
            while not until(self.events):
                if not await self._next():
                    await asyncio.sleep(0.05)

        await asyncio.wait_for(pump(), timeout)
        return until(self.events)

    def of_batch(self, batch_id) -> list[Event]:
        """The events received so far for one batch, parsed."""
        return [parse_event(event) for event in self.events if event.get("batch_id") == str(batch_id)]

    async def of_batch_once(self, batch_id, count: int = 1, timeout: float = 30.0) -> list[Event]:
        """The batch's events, once at least `count` of them arrived."""
        return await self.collect(lambda _: len(found := self.of_batch(batch_id)) >= count and found, timeout)

    async def quiet_for(self, seconds: float) -> list[dict]:
        """Everything that arrives within `seconds`."""
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            if not await self._next():
                await asyncio.sleep(0.05)
        return self.events


@asynccontextmanager
async def listen(url: str, *routing_keys: str):
    connection = await aio_pika.connect_robust(url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE_NAME, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in routing_keys or ("#",):
            await queue.bind(exchange, routing_key=key)
        yield EventListener(queue)
    finally:
        await connection.close()

"""Write docs/asyncapi.json: the machine-readable event contract, generated from the FastStream apps.

    .venv/bin/python docs/asyncapi.py        (or: make asyncapi)

The consumers come from the services' own brokers; every event a service publishes is
declared here as a publisher on docintake.events with its Pydantic model as the schema.
"""

import json
import sys
from pathlib import Path

from faststream.specification import AsyncAPI

from docintake.contracts.events import ALL_EVENTS
from docintake.ingestor.entrypoints.subscribers import broker as ingestor
from docintake.platform.messaging import make_broker
from docintake.platform.topology import EVENTS_EXCHANGE
from docintake.status.entrypoints.projection_subscriber import broker as status

PUBLISHED_BY = {
    "batch.created": "gateway (status service for a batch whose own never came within the stall timeout)",
    "document.queued": "gateway (status service on retry)",
    "document.ingested": "ingestor",
    "document.failed": "ingestor (status service when it gives up on a stalled or never queued document)",
    "batch.completed": "status service",
    "batch.cancelled": "status service (gateway when an upload is withdrawn)",
}


def specification() -> dict:
    published = make_broker("amqp://guest:guest@localhost:5672/")
    for event in ALL_EVENTS:
        published.publisher(
            exchange=EVENTS_EXCHANGE, routing_key=event.routing_key, persist=True, schema=event,
            title=f"{event.routing_key}:publish", description=f"{event.__name__}, published by {PUBLISHED_BY[event.routing_key]}",
        )
    spec = AsyncAPI(
        ingestor, status, published, title="docintake events", version="1.0.0",
        description="Events of batch document ingestion on the topic exchange docintake.events. "
        "Bind a queue of your own to follow them; every body is one JSON event envelope.",
    )
    return json.loads(spec.to_specification().to_json())


def main() -> None:
    target = Path(__file__).with_name("asyncapi.json")
    target.write_text(json.dumps(specification(), indent=2) + "\n")
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()

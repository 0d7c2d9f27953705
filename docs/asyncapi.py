"""Write docs/asyncapi.json: the machine-readable event contract, generated from the FastStream apps.

    .venv/bin/python docs/asyncapi.py        (or: make asyncapi)

Every subscriber and publisher in it is the one a service declares: the gateway's publishers, the
ingestor's and the status service's brokers with their subscribers and publishers.
"""

import json
import sys
from pathlib import Path

from faststream.specification import AsyncAPI

from docintake.gateway.adapters.event_publishers import router as gateway_publishers
from docintake.ingestor.entrypoints.subscribers import broker as ingestor
from docintake.platform.messaging import make_broker
from docintake.status.entrypoints import webhook_deliveries  # noqa: F401 - declares its subscriber on the status broker
from docintake.status.entrypoints.projection_subscriber import broker as status


def specification() -> dict:
    gateway = make_broker("amqp://guest:guest@localhost:5672/")
    gateway.include_router(gateway_publishers)
    spec = AsyncAPI(
        gateway, ingestor, status, title="docintake events", version="1.0.0",
        description="Events of batch document ingestion on the topic exchange docintake.events. "
        "Bind a queue of your own to follow them; every body is one JSON event envelope.",
    )
    document = json.loads(spec.to_specification().to_json())
    for server in document["servers"].values():  # the brokers' own URLs come from this machine's settings
        server.update(host="localhost:5672", pathname="/")
    return document


def main() -> None:
    target = Path(__file__).with_name("asyncapi.json")
    target.write_text(json.dumps(specification(), indent=2, sort_keys=True) + "\n")  # the same bytes every run
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""`docintake-events`: print the JSON Schema of every event, for services that subscribe."""

import json

from docintake.contracts.events import ALL_EVENTS


def main() -> None:
    schemas = {
        event.model_fields["event_type"].default: {
            "routing_key": event.routing_key,
            "schema": event.model_json_schema(),
        }
        for event in ALL_EVENTS
    }
    print(json.dumps(schemas, indent=2))

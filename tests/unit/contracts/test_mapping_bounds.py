"""A mapping whose metadata a reader could not load back is refused at the door, at every depth."""

import json

import pytest

from docintake.contracts.events import BatchCreated, BatchCreatedData, DocumentRef, parse_event
from docintake.contracts.mapping import MAX_VALUE_DEPTH, MappingError, parse_mapping


def nested(depth: int) -> object:
    value: object = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def mapping_with(value: object) -> bytes:
    return json.dumps({"a.pdf": {"author": "Ada", "extra": value}}).encode()


@pytest.mark.parametrize("depth", [MAX_VALUE_DEPTH + 1, 100, 200, 254, 255, 1_000, 10_000])
def test_metadata_nested_past_the_limit_is_refused_with_the_field_and_file_named(depth):
    text = '{"a.pdf": {"extra": ' + "[" * depth + "1" + "]" * depth + "}}"
    with pytest.raises(MappingError, match="nests deeper"):
        parse_mapping(text.encode(), "application/json")


@pytest.mark.parametrize("depth", range(MAX_VALUE_DEPTH + 1))
def test_metadata_within_the_limit_is_kept_and_survives_an_event_round_trip(depth):
    mapping = parse_mapping(mapping_with(nested(depth)), "application/json")
    ref = DocumentRef(document_id="00000000-0000-4000-8000-000000000001", filename="a.pdf", size=1, sha256="0" * 64,
                      bucket="b", key="k", metadata=mapping["a.pdf"])
    event = BatchCreated(batch_id="00000000-0000-4000-8000-000000000002", data=BatchCreatedData(documents=[ref]))
    assert parse_event(event.to_json()).data.documents[0].metadata == mapping["a.pdf"]

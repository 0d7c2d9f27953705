import json
from uuid import UUID

import pytest
from pydantic import ValidationError

from docintake.contracts.events import ALL_EVENTS, DocumentIngested, DocumentQueued, parse_event
from tests.support.events import one_of_each

EVENTS = one_of_each()


def test_there_is_a_sample_of_every_event_type():
    assert {type(event) for event in EVENTS} == set(ALL_EVENTS)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_every_event_survives_a_json_round_trip(event):
    assert parse_event(event.to_json()) == event


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_the_envelope_carries_its_fields(event):
    body = json.loads(event.to_json())
    assert UUID(body["event_id"])
    assert body["event_type"] == f"docintake.{event.routing_key}"
    assert body["schema_version"] == 1
    assert body["occurred_at"].endswith("Z") or body["occurred_at"].endswith("+00:00")
    assert UUID(body["batch_id"]) == event.batch_id
    assert isinstance(body["data"], dict)


def test_event_ids_are_unique():
    assert len({event.event_id for event in one_of_each() + one_of_each()}) == 2 * len(EVENTS)


def test_unknown_fields_from_a_newer_producer_are_tolerated():
    ingested = next(e for e in EVENTS if isinstance(e, DocumentIngested))
    body = json.loads(ingested.to_json())
    body["trace_id"] = "abc"
    body["data"]["ocr_used"] = True
    assert parse_event(json.dumps(body)) == ingested


@pytest.mark.parametrize("field", ["event_id", "batch_id", "event_type", "data"])
def test_a_missing_envelope_field_is_a_validation_error(field):
    body = json.loads(EVENTS[2].to_json())
    if field == "event_id":
        body[field] = "not-a-uuid"
    else:
        del body[field]
    with pytest.raises(ValidationError):
        parse_event(json.dumps(body))


def test_a_missing_data_field_is_a_validation_error():
    body = json.loads(EVENTS[2].to_json())
    del body["data"]["sha256"]
    with pytest.raises(ValidationError, match="sha256"):
        parse_event(json.dumps(body))


def test_an_unknown_event_type_is_a_validation_error():
    body = json.loads(EVENTS[0].to_json())
    body["event_type"] = "docintake.batch.exploded"
    with pytest.raises(ValidationError):
        parse_event(body)


def test_routing_keys_follow_the_design():
    assert [event.routing_key for event in ALL_EVENTS] == [
        "batch.created",
        "document.queued",
        "document.ingested",
        "document.failed",
        "batch.completed",
        "batch.cancelled",
        "document.removed",
        "deletion.requested",
        "document.ocr_requested",
        "document.progressed",
    ]


def test_a_document_ref_from_before_sources_is_the_source_of_its_filename_in_the_default_collection():
    queued = next(e for e in EVENTS if isinstance(e, DocumentQueued))
    body = json.loads(queued.to_json())
    for field in ("collection", "source_path"):
        del body["data"]["document"][field]
    ref = parse_event(json.dumps(body)).data.document
    assert (ref.collection, ref.source_path) == ("default", ref.filename)


def test_an_ingested_event_from_before_sources_says_the_source_was_added():
    ingested = next(e for e in EVENTS if isinstance(e, DocumentIngested))
    body = json.loads(ingested.to_json())
    for field in ("collection", "source_path", "change"):
        del body["data"][field]
    assert parse_event(json.dumps(body)).data.change == "added"


def test_a_source_path_given_is_kept_beside_the_display_filename():
    ref = next(e for e in EVENTS if isinstance(e, DocumentQueued)).data.document
    moved = ref.model_validate({**ref.model_dump(), "source_path": "handbook/setup.pdf"})
    assert (moved.filename, moved.source_path) == (ref.filename, "handbook/setup.pdf")

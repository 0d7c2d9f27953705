from datetime import date

import pytest

from docintake.contracts.metadata import DocumentMetadata, MetadataError


def test_known_fields_and_free_extras():
    metadata = DocumentMetadata.validate_raw(
        {"author": " Ada ", "tags": "ml, graphs ,", "date_created": "2024-03-01", "project": "x"}
    )
    assert metadata.author == "Ada"
    assert metadata.tags == ["ml", "graphs"]
    assert metadata.date_created == date(2024, 3, 1)
    assert metadata.extra_fields() == {"project": "x"}


def test_blank_values_are_absent():
    metadata = DocumentMetadata.validate_raw({"author": "", "date_created": " ", "tags": ""})
    assert (metadata.author, metadata.date_created, metadata.tags) == (None, None, [])


def test_a_missing_required_field_is_named():
    with pytest.raises(MetadataError, match="Missing required field 'author'"):
        DocumentMetadata.validate_raw({"department": "R&D"}, required=("author",))


def test_a_bad_date_is_named():
    with pytest.raises(MetadataError, match="date_created"):
        DocumentMetadata.validate_raw({"date_created": "last tuesday"})

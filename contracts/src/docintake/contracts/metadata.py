"""The metadata an administrator attaches to a document."""

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

KNOWN_FIELDS = ("author", "department", "date_created", "tags", "category")


class MetadataError(ValueError):
    """Metadata that does not fit the schema; the message is meant for users."""


class DocumentMetadata(BaseModel):
    """author, department, date_created, tags and category, plus any free extra fields."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    author: str | None = None
    department: str | None = None
    date_created: date | None = None
    tags: list[str] = []
    category: str | None = None

    @field_validator("tags", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [tag.strip() for tag in value.split(",") if tag.strip()]
        return value

    @field_validator("author", "department", "category", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("date_created", mode="before")
    @classmethod
    def _blank_date_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @classmethod
    def validate_raw(cls, raw: dict[str, Any], required: tuple[str, ...] = ()) -> "DocumentMetadata":
        """Validate metadata as it travels in events; raise MetadataError with a readable reason."""
        try:
            metadata = cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "metadata"
            raise MetadataError(f"Metadata validation failed: field '{field}': {first['msg']}") from exc
        for field in required:
            value = getattr(metadata, field, None) if field in KNOWN_FIELDS else (metadata.model_extra or {}).get(field)
            if value in (None, "", []):
                raise MetadataError(f"Metadata validation failed: Missing required field '{field}'")
        return metadata

    def extra_fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

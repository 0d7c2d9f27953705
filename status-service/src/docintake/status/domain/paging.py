"""Where a page of the newest-first batch list ended, as the opaque cursor clients hand back."""

import base64
import json
from datetime import datetime
from typing import NamedTuple
from uuid import UUID


class PageMark(NamedTuple):
    """The next page starts after this batch."""

    created_at: datetime
    batch_id: UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.batch_id)]).encode()
        return base64.urlsafe_b64encode(raw).decode()

    @classmethod
    def decode(cls, cursor: str) -> "PageMark":
        """Raises ValueError when the cursor is not one this service handed out."""
        try:
            created_at, batch_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            return cls(datetime.fromisoformat(created_at), UUID(batch_id))
        except (TypeError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"invalid cursor {cursor!r}") from exc

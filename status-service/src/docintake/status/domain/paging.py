"""Where a page of the newest-first batch list ended, as the opaque cursor clients hand back."""

import base64
import json
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from docintake.status.domain.refusals import InvalidCursor


class PageMark(NamedTuple):
    """The next page starts after this batch."""

    created_at: datetime
    batch_id: UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.batch_id)]).encode()
        return base64.urlsafe_b64encode(raw).decode()

    @classmethod
    def decode(cls, cursor: str) -> "PageMark":
        """Raises InvalidCursor when the cursor is not one this service handed out."""
        try:
            created_at, batch_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            mark = cls(datetime.fromisoformat(created_at), UUID(batch_id))
            mark.created_at.timestamp()  # a time the store cannot compare with was never handed out
        except (TypeError, ValueError, UnicodeDecodeError, RecursionError, OverflowError, OSError) as exc:
            raise InvalidCursor() from exc
        return mark

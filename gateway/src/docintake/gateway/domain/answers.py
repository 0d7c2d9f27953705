from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as it is kept for a request sent again with the same Idempotency-Key."""

    status: int
    body: dict[str, Any]

"""Remember the answer to a POST sent with an Idempotency-Key, so a retried request gets it back."""

import hashlib
import json

from docintake.platform.storage import ObjectStore


class IdempotencyStore:
    """Answers kept as small objects in MinIO, so every gateway instance sees them."""

    def __init__(self, store: ObjectStore):
        self.store = store

    @staticmethod
    def _key(api_key: str, idempotency_key: str) -> str:
        digest = hashlib.sha256(f"{api_key}\0{idempotency_key}".encode()).hexdigest()
        return f"idempotency/{digest}.json"

    async def recall(self, api_key: str, idempotency_key: str) -> tuple[int, dict] | None:
        raw = await self.store.get_bytes(self._key(api_key, idempotency_key))
        if raw is None:
            return None
        answer = json.loads(raw)
        return answer["status"], answer["body"]

    async def remember(self, api_key: str, idempotency_key: str, status: int, body: dict) -> None:
        payload = json.dumps({"status": status, "body": body}).encode()
        await self.store.put_bytes(self._key(api_key, idempotency_key), payload)

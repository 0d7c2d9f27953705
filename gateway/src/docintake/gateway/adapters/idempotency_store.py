"""Answers to requests sent with an Idempotency-Key, kept as small objects so every gateway instance sees them."""

import hashlib
import json

from docintake.gateway.domain.answers import Answer
from docintake.platform.storage import ObjectStore


class IdempotencyStore:
    def __init__(self, store: ObjectStore):
        self.store = store

    @staticmethod
    def _key(api_key: str, idempotency_key: str) -> str:
        digest = hashlib.sha256(f"{api_key}\0{idempotency_key}".encode()).hexdigest()
        return f"idempotency/{digest}.json"

    async def get(self, api_key: str, idempotency_key: str) -> Answer | None:
        raw = await self.store.get_bytes(self._key(api_key, idempotency_key))
        if raw is None:
            return None
        answer = json.loads(raw)
        return Answer(answer["status"], answer["body"])

    async def put(self, api_key: str, idempotency_key: str, answer: Answer) -> None:
        payload = json.dumps({"status": answer.status, "body": answer.body}).encode()
        await self.store.put_bytes(self._key(api_key, idempotency_key), payload)

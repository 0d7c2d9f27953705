"""Answers to requests sent with an Idempotency-Key, and claims of the keys being answered, kept as
small objects so every gateway instance sees them. An answer is replayed for `lifetime` after it
was given; MinIO deletes it (and any claim) within a day after that."""

import hashlib
import json
import math
import uuid
from datetime import UTC, datetime, timedelta

from docintake.gateway.domain.answers import Answer
from docintake.platform.storage import ObjectStore

# A claim this old was left by a gateway that stopped mid-request; the next request takes it over.
CLAIM_LIFETIME = timedelta(hours=1)
PREFIX = "idempotency/"


class IdempotencyStore:
    def __init__(self, store: ObjectStore, lifetime: timedelta = timedelta(hours=24)):
        self.store = store
        self.lifetime = lifetime

    async def ensure_expiry(self) -> None:
        await self.store.expire(PREFIX, math.ceil(self.lifetime / timedelta(days=1)) + 1)

    @staticmethod
    def _key(api_key: str, idempotency_key: str, kind: str) -> str:
        digest = hashlib.sha256(f"{api_key}\0{idempotency_key}".encode()).hexdigest()
        return f"{PREFIX}{digest}.{kind}"

    async def get(self, api_key: str, idempotency_key: str) -> Answer | None:
        raw = await self.store.get_bytes(self._key(api_key, idempotency_key, "json"))
        if raw is None:
            return None
        answer = json.loads(raw)
        given_at = datetime.fromtimestamp(answer.get("given_at", 0), UTC)
        if datetime.now(UTC) - given_at >= self.lifetime:
            return None
        return Answer(answer["status"], answer["body"])

    async def put(self, api_key: str, idempotency_key: str, answer: Answer) -> None:
        given_at = datetime.now(UTC).timestamp()
        payload = json.dumps({"status": answer.status, "body": answer.body, "given_at": given_at}).encode()
        await self.store.put_bytes(self._key(api_key, idempotency_key, "json"), payload)

    async def claim(self, api_key: str, idempotency_key: str) -> bool:
        """Whether this request now holds the key: no other holds it, or the one that did is long gone."""
        key = self._key(api_key, idempotency_key, "claim")
        mine = uuid.uuid4().bytes  # every claim's own content, so each has an etag of its own
        if await self.store.create(key, mine):
            return True
        held = await self.store.version(key)
        if held is None:  # let go in the meantime
            return await self.store.create(key, mine)
        if datetime.now(UTC) - held.written_at < CLAIM_LIFETIME:
            return False
        return await self.store.replace(key, mine, held)

    async def release(self, api_key: str, idempotency_key: str) -> None:
        await self.store.remove([self._key(api_key, idempotency_key, "claim")])

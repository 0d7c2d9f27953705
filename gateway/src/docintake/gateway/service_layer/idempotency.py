"""A POST sent again with the same Idempotency-Key gets the first answer back."""

from docintake.gateway.domain.answers import Answer
from docintake.gateway.service_layer.ports import AnswerStore


async def recall(answers: AnswerStore, api_key: str, idempotency_key: str | None) -> Answer | None:
    if not idempotency_key:
        return None
    return await answers.get(api_key, idempotency_key)


async def remember(answers: AnswerStore, api_key: str, idempotency_key: str | None, answer: Answer) -> None:
    """Keep an answer that a retry would get again; an unavailable service (5xx) may well answer differently."""
    if idempotency_key and answer.status < 500:
        await answers.put(api_key, idempotency_key, answer)

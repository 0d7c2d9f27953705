"""A POST sent again with the same Idempotency-Key gets the first answer back; one sent while the
first is still being answered is refused (409), so that a key makes at most one batch."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from docintake.gateway.domain.answers import Answer
from docintake.gateway.domain.refusals import IdempotencyKeyInFlight
from docintake.gateway.service_layer.ports import AnswerStore

TRY_AGAIN = frozenset({408, 409, 429})


@asynccontextmanager
async def only_one_at_a_time(answers: AnswerStore, api_key: str, idempotency_key: str | None) -> AsyncIterator[None]:
    """Hold the key while its request is answered, on whichever gateway; raises IdempotencyKeyInFlight
    while another request holds it.

    The first answer is remembered before the key is let go, so whoever holds it next, having
    recalled after taking it, replays that answer."""
    if not idempotency_key:
        yield
        return
    if not await answers.claim(api_key, idempotency_key):
        raise IdempotencyKeyInFlight()
    try:
        yield
    finally:
        await answers.release(api_key, idempotency_key)


async def recall(answers: AnswerStore, api_key: str, idempotency_key: str | None) -> Answer | None:
    if not idempotency_key:
        return None
    return await answers.get(api_key, idempotency_key)


async def remember(answers: AnswerStore, api_key: str, idempotency_key: str | None, answer: Answer) -> None:
    """Keep an answer that a retry would get again: not one that says to try again (a timeout, a busy
    key, a limit, an unavailable service)."""
    if idempotency_key and answer.status < 500 and answer.status not in TRY_AGAIN:
        await answers.put(api_key, idempotency_key, answer)

"""A POST sent again with the same Idempotency-Key gets the first answer back; one sent while the
first is still being answered is refused (409), so that a key makes at most one batch."""

from collections.abc import Iterator
from contextlib import contextmanager

from docintake.gateway.domain.answers import Answer
from docintake.gateway.domain.refusals import IdempotencyKeyInFlight
from docintake.gateway.service_layer.ports import AnswerStore

InFlight = set[tuple[str, str]]
TRY_AGAIN = frozenset({408, 409, 429})


@contextmanager
def only_one_at_a_time(in_flight: InFlight, api_key: str, idempotency_key: str | None) -> Iterator[None]:
    """Hold the key while its request is answered; raises IdempotencyKeyInFlight while another holds it.

    The first answer is remembered before the key is let go, so whoever holds it next, having
    recalled after taking it, replays that answer."""
    if not idempotency_key:
        yield
        return
    key = (api_key, idempotency_key)
    if key in in_flight:
        raise IdempotencyKeyInFlight()
    in_flight.add(key)
    try:
        yield
    finally:
        in_flight.discard(key)


async def recall(answers: AnswerStore, api_key: str, idempotency_key: str | None) -> Answer | None:
    if not idempotency_key:
        return None
    return await answers.get(api_key, idempotency_key)


async def remember(answers: AnswerStore, api_key: str, idempotency_key: str | None, answer: Answer) -> None:
    """Keep an answer that a retry would get again: not one that says to try again (a timeout, a busy
    key, a limit, an unavailable service)."""
    if idempotency_key and answer.status < 500 and answer.status not in TRY_AGAIN:
        await answers.put(api_key, idempotency_key, answer)

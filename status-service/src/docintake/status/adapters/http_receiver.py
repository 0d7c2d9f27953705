"""POSTing a webhook delivery to its receiver with httpx; its errors leave as ReceiverFailed.

Redirects are not followed: a receiver must not send a delivery somewhere the allow-list was not asked about.
"""

import asyncio

import httpx

from docintake.platform.errors import ReceiverFailed

# How much of a receiver's answer is kept as the delivery's last error.
ANSWER_CHARACTERS = 200


class HttpReceivers:
    def __init__(self, timeout_seconds: float):
        self._timeout = timeout_seconds
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds), follow_redirects=False,
                                         headers={"User-Agent": "docintake-webhooks/1"}, trust_env=False)

    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        """Within the timeout as a whole, however slowly the receiver answers."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._post(url, body, headers)
        except TimeoutError:
            raise ReceiverFailed(f"no answer within {self._timeout:g} s") from None

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            async with self._client.stream("POST", url, content=body, headers=headers) as response:
                if response.is_success:
                    return
                answer = b""
                async for chunk in response.aiter_bytes():  # only the start of it, however long it is
                    answer += chunk
                    if len(answer) >= ANSWER_CHARACTERS:
                        break
        except httpx.TimeoutException as exc:
            raise ReceiverFailed(f"no answer in time ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise ReceiverFailed(f"could not be reached: {type(exc).__name__}: {exc}") from None
        text = answer[:ANSWER_CHARACTERS].decode("utf-8", "replace")
        raise ReceiverFailed(f"answered {response.status_code}: {text}".rstrip(": "))

    async def close(self) -> None:
        await self._client.aclose()

"""The status service over HTTP: the pending backlog, and the status routes the gateway forwards to it."""

from collections.abc import Mapping

import httpx

from docintake.contracts.api import PendingBytes
from docintake.gateway.domain.refusals import StatusServiceUnavailable

# Headers of one connection, not of the request or response a proxy passes on.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


def end_to_end(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() not in HOP_BY_HOP}


class StatusService:
    """Forwarded requests carry the client's own key; only the pending backlog is asked with the gateway's."""

    def __init__(self, base_url: str, api_key: str):
        self.client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10.0, read=None))
        self.api_key = api_key

    async def pending(self) -> PendingBytes:
        try:
            response = await self.client.get("/api/v1/internal/pending", headers={"X-API-Key": self.api_key},
                                             timeout=2.0)
            response.raise_for_status()
            return PendingBytes.model_validate(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise StatusServiceUnavailable() from exc

    async def send(self, method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str],
                   body: bytes) -> httpx.Response:
        """The status service's response, its body still to be streamed (close it when done)."""
        request = self.client.build_request(method, path, params=params, headers=end_to_end(headers), content=body)
        try:
            return await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise StatusServiceUnavailable() from exc

    async def aclose(self) -> None:
        await self.client.aclose()

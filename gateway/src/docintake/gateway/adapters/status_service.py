"""The status service over HTTP: the pending backlog, and the status routes the gateway forwards to it."""

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

import httpx

from docintake.contracts.api import BatchFinish, PendingBytes
from docintake.gateway.domain.refusals import StatusServiceUnavailable
from docintake.gateway.service_layer.ports import FORGOTTEN

# Headers of one connection, not of the request or response a proxy passes on.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


# Headers each server sets for itself: the gateway's own go out, not a second copy of the status service's.
SET_BY_EACH_SERVER = {"date", "server"}


def end_to_end(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() not in HOP_BY_HOP}


def passed_on(headers: Mapping[str, str]) -> dict[str, str]:
    """The status service's response headers the gateway's response carries."""
    return {name: value for name, value in end_to_end(headers).items() if name.lower() not in SET_BY_EACH_SERVER}


class StatusService:
    """Forwarded requests carry the client's own key; the internal routes (the pending backlog, when a
    batch finished) are asked with the services' own.

    Live streams have a connection pool of their own, as large as the stream budget, so that open
    streams can never take the connections status, list and admission requests need."""

    def __init__(self, base_url: str, api_key: str, max_streams: int = 200, max_calls: int = 100):
        self.client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10.0, pool=5.0),
                                        limits=httpx.Limits(max_connections=max_calls))
        self.streams = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10.0, read=None, pool=5.0),
                                         limits=httpx.Limits(max_connections=max_streams))
        self.api_key = api_key

    async def pending(self, tenant: str) -> PendingBytes:
        try:
            response = await self.client.get("/api/v1/internal/pending", params={"tenant": tenant},
                                             headers={"X-API-Key": self.api_key}, timeout=2.0)
            response.raise_for_status()
            return PendingBytes.model_validate(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise StatusServiceUnavailable() from exc

    async def finished_at(self, batch_id: UUID) -> datetime | None:
        """When the batch finished; None while it runs; FORGOTTEN for a batch the status service does
        not know (raises StatusServiceUnavailable)."""
        try:
            response = await self.client.get(f"/api/v1/internal/batches/{batch_id}/finished",
                                             headers={"X-API-Key": self.api_key})
            if response.status_code == 404:
                return FORGOTTEN
            response.raise_for_status()
            return BatchFinish.model_validate_json(response.content).finished_at
        except (httpx.HTTPError, ValueError) as exc:
            raise StatusServiceUnavailable() from exc

    async def send(self, method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str],
                   body: bytes, *, live: bool = False) -> httpx.Response:
        """The status service's response, its body still to be streamed (close it when done); a `live`
        stream goes through the streams' own pool."""
        client = self.streams if live else self.client
        request = client.build_request(method, path, params=params, headers=end_to_end(headers), content=body)
        try:
            return await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise StatusServiceUnavailable() from exc

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.streams.aclose()

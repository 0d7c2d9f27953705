"""What the routes get from bootstrap: the objects it built, kept on the application's state."""

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from faststream.rabbit import RabbitBroker

from docintake.gateway.adapters.idempotency_store import IdempotencyStore
from docintake.gateway.adapters.status_service import StatusService
from docintake.gateway.domain.quotas import RequestRates
from docintake.gateway.domain.stream_budget import StreamBudget
from docintake.gateway.service_layer.ports import Publish
from docintake.gateway.settings import GatewaySettings
from docintake.platform.storage import ObjectStore
from docintake.platform.tenants import KeyRing, Principal
from docintake.platform.web import ApiError

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def built(name: str) -> Callable[[Request], Any]:
    """A dependency that gives the object bootstrap kept under `name`."""

    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return get


SettingsDep = Annotated[GatewaySettings, Depends(built("settings"))]
StoreDep = Annotated[ObjectStore, Depends(built("store"))]
AnswersDep = Annotated[IdempotencyStore, Depends(built("answers"))]
StatusServiceDep = Annotated[StatusService, Depends(built("status_service"))]
BrokerDep = Annotated[RabbitBroker, Depends(built("broker"))]
PublishDep = Annotated[Publish, Depends(built("publish"))]
StreamBudgetDep = Annotated[StreamBudget, Depends(built("streams"))]


KeyRingDep = Annotated[KeyRing, Depends(built("keys"))]
RatesDep = Annotated[RequestRates, Depends(built("rates"))]


async def require_caller(keys: KeyRingDep, settings: SettingsDep, rates: RatesDep,
                         api_key: Annotated[str | None, Security(_api_key_header)] = None) -> Principal:
    """Who the request comes from: the tenant of its X-API-Key, if that is a key in force (401 otherwise),
    and within its tenant's request rate (429 otherwise)."""
    principal = keys.identify(api_key)
    if principal is None:
        raise ApiError(401, "UNAUTHORIZED", "Missing or invalid X-API-Key header")
    rates.check(principal.tenant, settings.request_rate(keys.tenant(principal.tenant)), time.monotonic())
    return principal


Caller = Annotated[Principal, Depends(require_caller)]


async def require_api_key(_: Caller, api_key: Annotated[str | None, Security(_api_key_header)] = None) -> str:
    """The client's X-API-Key, once it is known to be in force."""
    return api_key or ""


ApiKey = Annotated[str, Depends(require_api_key)]

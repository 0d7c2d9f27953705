"""What the routes get from bootstrap: the objects it built, kept on the application's state."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from faststream.rabbit import RabbitBroker

from docintake.gateway.adapters.idempotency_store import IdempotencyStore
from docintake.gateway.adapters.status_service import StatusService
from docintake.gateway.domain.stream_budget import StreamBudget
from docintake.gateway.service_layer.ports import Publish
from docintake.gateway.settings import GatewaySettings
from docintake.platform.storage import ObjectStore
from docintake.platform.web import api_key_guard

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


async def require_api_key(settings: SettingsDep,
                          api_key: Annotated[str | None, Security(_api_key_header)] = None) -> str:
    """The client's X-API-Key, if it is one of the configured keys (401 otherwise)."""
    return await api_key_guard(lambda: settings.api_key_list)(api_key)


ApiKey = Annotated[str, Depends(require_api_key)]

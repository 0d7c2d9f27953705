"""What the routes get from bootstrap: the objects it built, kept on the application's state."""

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from faststream.rabbit import RabbitBroker

from docintake.gateway.adapters.idempotency_store import IdempotencyStore
from docintake.gateway.adapters.status_service import StatusService
from docintake.gateway.service_layer.ports import Publish
from docintake.gateway.settings import GatewaySettings
from docintake.platform.storage import ObjectStore
from docintake.platform.web import api_key_guard

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def _settings(request: Request) -> GatewaySettings:
    return request.app.state.settings


def _store(request: Request) -> ObjectStore:
    return request.app.state.store


def _answers(request: Request) -> IdempotencyStore:
    return request.app.state.answers


def _status_service(request: Request) -> StatusService:
    return request.app.state.status_service


def _broker(request: Request) -> RabbitBroker:
    return request.app.state.broker


def _publish(request: Request) -> Publish:
    return request.app.state.publish


async def require_api_key(request: Request, api_key: Annotated[str | None, Security(_api_key_header)] = None) -> str:
    """The client's X-API-Key, if it is one of the configured keys (401 otherwise)."""
    settings = _settings(request)
    return await api_key_guard(lambda: settings.api_key_list)(api_key)


SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
StoreDep = Annotated[ObjectStore, Depends(_store)]
AnswersDep = Annotated[IdempotencyStore, Depends(_answers)]
StatusServiceDep = Annotated[StatusService, Depends(_status_service)]
BrokerDep = Annotated[RabbitBroker, Depends(_broker)]
PublishDep = Annotated[Publish, Depends(_publish)]
ApiKey = Annotated[str, Depends(require_api_key)]

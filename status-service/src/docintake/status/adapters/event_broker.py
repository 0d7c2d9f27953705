"""The status service's RabbitMQ broker, one per process, with FastStream's per-message Prometheus
metrics, and the publishers of the events the service publishes; its subscribers are declared in the
entrypoints, so the AsyncAPI document is made from it."""

from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from prometheus_client import REGISTRY

from docintake.contracts.events import BatchCancelled, BatchCompleted, BatchCreated, DocumentFailed, DocumentQueued
from docintake.platform.messaging import EventPublishers, make_broker
from docintake.status.settings import StatusSettings

_settings = StatusSettings()
broker = make_broker(_settings.rabbitmq_url, prefetch=_settings.status_prefetch)
broker.add_middleware(RabbitPrometheusMiddleware(registry=REGISTRY, app_name="docintake-status"))
# Completions and cancellations; retries (DocumentQueued); the sweeper's verdicts (DocumentFailed, and a
# BatchCreated for a batch whose own never came).
publishers = EventPublishers(
    broker, "status-service", (BatchCompleted, BatchCancelled, DocumentQueued, DocumentFailed, BatchCreated))

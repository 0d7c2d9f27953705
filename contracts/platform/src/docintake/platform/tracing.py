"""OpenTelemetry traces across the services, off unless DOCINTAKE_OTLP_ENDPOINT names an OTLP/HTTP collector.

Off (the default), nothing is installed: no tracer provider, no broker middleware, no HTTP
middleware, and the SDK is not even imported; a span opened through the OTel API is the API's
no-op. On, each service has a tracer provider of its own (its `service.name`) that batches its
spans to the endpoint over OTLP/HTTP (protobuf); FastStream's RabbitTelemetryMiddleware carries
the trace context in the AMQP headers (W3C `traceparent`) and FastAPI's instrumentation reads it
from the HTTP request, so one upload is one trace through the gateway, the ingestor and the
status service.

Each service's bootstrap calls `configure_tracing` once and hands the result to its broker and
its FastAPI app; tests hand the bootstraps a `Tracing` of their own (`exporting_to`).
"""

import os
import socket
import weakref
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from docintake.platform.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from faststream.rabbit import RabbitBroker
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

# The span attributes that say which batch and document a span worked on (searchable in Jaeger).
BATCH_ID = "docintake.batch_id"
DOCUMENT_ID = "docintake.document_id"
# Requests not worth a trace: the probes and the metrics scrapes.
UNTRACED_URLS = "/healthz,/readyz,/metrics"

# The telemetry middleware this module put on each broker, so that a second bootstrap in one
# process (tests, or a module-level broker) replaces it rather than adding another.
_installed: "weakref.WeakKeyDictionary[RabbitBroker, Any]" = weakref.WeakKeyDictionary()


class Tracing:
    """One service's tracing: its tracer provider, or none when tracing is off."""

    def __init__(self, provider: "TracerProvider | None" = None):
        self.provider = provider

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def tracer(self, name: str) -> trace.Tracer:
        """A tracer for the service's own spans; the API's no-op one when tracing is off."""
        return self.provider.get_tracer(name) if self.provider is not None else trace.NoOpTracer()

    def instrument_broker(self, broker: "RabbitBroker") -> None:
        """Trace what the broker consumes and publishes (the context in the AMQP headers); off: leave it bare.

        Replaces what an earlier call put on the same broker, so calling it twice installs one middleware.
        """
        earlier = _installed.pop(broker, None)
        if earlier is not None:
            config = broker.config.broker_config
            config.broker_middlewares = tuple(m for m in config.broker_middlewares if m is not earlier)
        if self.provider is None:
            return
        from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware

        middleware = RabbitTelemetryMiddleware(tracer_provider=self.provider)
        _installed[broker] = middleware
        broker.insert_middleware(middleware)  # outermost: its span covers the other middlewares

    def instrument_app(self, app: "FastAPI") -> None:
        """Trace the app's HTTP requests, continuing a trace a caller sent (`traceparent`); off: nothing."""
        if self.provider is None:
            return
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # No span per chunk received or sent: an upload of 100 files would be thousands of them.
        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.provider, excluded_urls=UNTRACED_URLS,
                                           exclude_spans=["receive", "send"])

    def flush(self) -> None:
        """Send the spans still buffered (at shutdown)."""
        if self.provider is not None:
            self.provider.force_flush()


DISABLED = Tracing()


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector's base URL (http://host:4318 → http://host:4318/v1/traces)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def _provider(service: str, ratio: float = 1.0) -> "TracerProvider":
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    # OTEL_RESOURCE_ATTRIBUTES, where set, adds to these (e.g. deployment.environment).
    resource = Resource.create({"service.name": service, "service.namespace": "docintake",
                                "service.instance.id": f"{socket.gethostname()}-{os.getpid()}"})
    # A trace is kept or dropped where it starts; every service after it follows that choice.
    return TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(ratio)))


def configure_tracing(service: str, settings: Settings) -> Tracing:
    """The service's tracing as the settings ask: off without DOCINTAKE_OTLP_ENDPOINT, else exported there.

    When on, the provider is also the process's global one, for any library instrumented through the API.
    """
    if not settings.otlp_endpoint:
        return DISABLED
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = _provider(service, settings.trace_sample_ratio)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(settings.otlp_endpoint))))
    trace.set_tracer_provider(provider)
    return Tracing(provider)


def exporting_to(service: str, exporter: "SpanExporter") -> Tracing:
    """Tracing that hands every span to `exporter` as it ends (an in-memory one in tests); not made global."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = _provider(service)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider)


def annotate(batch_id: object = None, document_id: object = None) -> None:
    """Name the batch and document on the span the caller runs in (a consume or an HTTP span); off: nothing."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    if batch_id is not None:
        span.set_attribute(BATCH_ID, str(batch_id))
    if document_id is not None:
        span.set_attribute(DOCUMENT_ID, str(document_id))

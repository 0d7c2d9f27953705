"""Tracing is off unless DOCINTAKE_OTLP_ENDPOINT is set: then nothing of it is installed, not even imported.

Each check that looks at what a bootstrap installs runs in a fresh interpreter, since a process has one
global tracer provider and keeps every module it imported.
"""

import os
import subprocess
import sys
import textwrap

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from docintake.platform.messaging import make_broker
from docintake.platform.tracing import DISABLED, exporting_to, traces_url
from tests.conftest import ROOT

BUILD_ALL_THREE = """
    import sys
    from opentelemetry import trace
    from docintake.gateway.bootstrap import create_app as gateway_app
    from docintake.ingestor.bootstrap import build_app as ingestor_app
    from docintake.ingestor.entrypoints.subscribers import broker as ingestor_broker
    from docintake.status.bootstrap import broker as status_broker
    from docintake.status.entrypoints.fastapi_app import create_app as status_app

    gateway, status = gateway_app(), status_app()
    ingestor_app()
    brokers = {"gateway": gateway.state.broker, "ingestor": ingestor_broker, "status": status_broker}
    telemetry = {name: [type(m).__name__ for m in broker.config.broker_middlewares if "Telemetry" in type(m).__name__]
                 for name, broker in brokers.items()}
    instrumented = [getattr(app, "_is_instrumented_by_opentelemetry", False) for app in (gateway, status)]
    provider = trace.get_tracer_provider()
"""


def run(code: str, **env: str) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "DOCINTAKE_OTLP_ENDPOINT"}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(BUILD_ALL_THREE) + textwrap.dedent(code)],
                            env={**environment, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_without_an_endpoint_no_provider_no_middleware_and_no_sdk_is_installed():
    run("""
        assert type(provider).__name__ == "ProxyTracerProvider", provider  # the API's default: no provider set
        assert telemetry == {"gateway": [], "ingestor": [], "status": []}, telemetry
        assert instrumented == [False, False]
        costly = ("opentelemetry.sdk", "opentelemetry.instrumentation", "opentelemetry.exporter",
                  "faststream.opentelemetry")
        loaded = [name for name in sys.modules if name.startswith(costly)]
        assert not loaded, loaded
    """)


def test_with_an_endpoint_the_service_has_a_provider_and_its_broker_and_app_are_traced():
    run("""
        from opentelemetry.sdk.trace import TracerProvider
        assert isinstance(provider, TracerProvider), provider
        assert provider.resource.attributes["service.name"] == "docintake-gateway"  # the first service set it
        assert provider.sampler.get_description().startswith("ParentBased{root:TraceIdRatioBased{0.25},")
        assert telemetry == {name: ["RabbitTelemetryMiddleware"] for name in ("gateway", "ingestor", "status")}, \\
            telemetry
        assert instrumented == [True, True]
    """, DOCINTAKE_OTLP_ENDPOINT="http://127.0.0.1:4318", DOCINTAKE_TRACE_SAMPLE_RATIO="0.25")


def test_the_endpoint_is_a_collectors_base_url_or_its_traces_url():
    assert traces_url("http://127.0.0.1:4318") == "http://127.0.0.1:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("https://collector/v1/traces") == "https://collector/v1/traces"


def test_a_broker_instrumented_twice_has_one_middleware_and_disabled_tracing_takes_it_off():
    broker = make_broker("amqp://guest:guest@127.0.0.1:1/")
    others = list(broker.config.broker_middlewares)
    tracing = exporting_to("docintake-test", InMemorySpanExporter())

    tracing.instrument_broker(broker)
    tracing.instrument_broker(broker)
    [telemetry, *rest] = broker.config.broker_middlewares
    assert type(telemetry).__name__ == "RabbitTelemetryMiddleware" and rest == others

    DISABLED.instrument_broker(broker)
    assert list(broker.config.broker_middlewares) == others


def test_disabled_tracing_hands_out_the_apis_no_op_tracer():
    with DISABLED.tracer("docintake.test").start_as_current_span("fetch") as span:
        assert not span.is_recording()


def test_a_line_logged_in_a_span_names_its_trace_and_span_and_one_outside_names_none(capsys):
    import json

    from docintake.platform.logging import configure_logging, get_logger

    configure_logging("docintake-test")
    exporter = InMemorySpanExporter()
    log = get_logger("test")
    with exporting_to("docintake-test", exporter).tracer("test").start_as_current_span("work") as span:
        log.info("inside")
    log.info("outside")
    inside, outside = (json.loads(line) for line in capsys.readouterr().err.splitlines()[-2:])
    context = span.get_span_context()
    assert (inside["trace_id"], inside["span_id"]) == (format(context.trace_id, "032x"),
                                                       format(context.span_id, "016x"))
    assert "trace_id" not in outside and "span_id" not in outside

"""compose.yaml cannot run here, but it must parse, name every service and set only known settings."""

import importlib

import yaml

from tests.conftest import ROOT

SETTINGS = {
    "gateway": ("docintake.gateway.settings", "GatewaySettings"),
    "ingestor": ("docintake.ingestor.settings", "IngestorSettings"),
    "status": ("docintake.status.settings", "StatusSettings"),
}


def known_variables(service: str) -> set[str]:
    module, name = SETTINGS[service]
    settings_class = getattr(importlib.import_module(module), name)
    return {f"DOCINTAKE_{field.upper()}" for field in settings_class.model_fields}


def test_compose_names_every_server_and_service():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert {"rabbitmq", "minio", "neo4j", "gateway", "ingestor", "status"} <= set(compose["services"])
    for service in SETTINGS:
        assert "build" in compose["services"][service]
        assert "healthcheck" in compose["services"]["rabbitmq"]


def test_every_docintake_variable_compose_sets_is_a_known_setting():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for service in SETTINGS:
        environment = compose["services"][service]["environment"]
        variables = {name for name in environment if name.startswith("DOCINTAKE_")}
        assert variables, service
        unknown = variables - known_variables(service)
        assert not unknown, f"{service} sets unknown settings {unknown}"


def test_the_known_variables_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("DOCINTAKE_MAX_FILES", "7")
    module, name = SETTINGS["gateway"]
    assert getattr(importlib.import_module(module), name)().max_files == 7

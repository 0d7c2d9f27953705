"""The Helm chart deploy/helm/docintake, checked without a cluster.

`helm lint` and `helm template` (Helm v4, built once with `go install` and cached like MinIO by
deploy/native/servers.py) run on the defaults and on each values file in tests/deploy/values/;
every rendered manifest is validated against the Kubernetes schemas that kubernetes-validate
ships, each KEDA ScaledObject against KEDA's CRD schema (keda-scaledobject-schema.yaml), and the
rules the chart promises are asserted on what it renders.
"""

import copy
import importlib
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from deploy.native.servers import install_helm
from docintake.contracts.topology import (
    INGESTOR_LANES,
    INGESTOR_QUEUE_NAME,
    OCR_QUEUE_NAME,
    STATUS_QUEUE_NAME,
    lane_queue_name,
)
from tests.conftest import ROOT

CHART = ROOT / "deploy" / "helm" / "docintake"
HERE = Path(__file__).parent
KUBERNETES_VERSION = "1.37.0"  # the newest that kubernetes-validate 1.37 ships
RELEASE = "rel"
CASES: dict[str, Path | None] = {
    "defaults": None,
    "existing-secret": HERE / "values" / "existing-secret.yaml",
    "hpa": HERE / "values" / "hpa.yaml",
    "servicemonitor": HERE / "values" / "servicemonitor.yaml",
    "tenants": HERE / "values" / "tenants.yaml",
}
COMPONENTS = ("gateway", "ingestor", "ocr", "status")
# The services of the ingestor's image: the ingestor (text) and the OCR workers.
INGESTORS = ("ingestor", "ocr")
# The queues each consumer scales on: the ingestor's own and its lanes', the OCR workers', the status service's.
QUEUES = {"ingestor": [INGESTOR_QUEUE_NAME, *(lane_queue_name(lane) for lane in range(INGESTOR_LANES))],
          "ocr": [OCR_QUEUE_NAME], "status": [STATUS_QUEUE_NAME]}
SETTINGS = {
    "gateway": ("docintake.gateway.settings", "GatewaySettings"),
    "ingestor": ("docintake.ingestor.settings", "IngestorSettings"),
    "ocr": ("docintake.ingestor.settings", "IngestorSettings"),
    "status": ("docintake.status.settings", "StatusSettings"),
}
SECRET_SETTINGS = {
    "DOCINTAKE_RABBITMQ_URL", "DOCINTAKE_MINIO_ACCESS_KEY", "DOCINTAKE_MINIO_SECRET_KEY",
    "DOCINTAKE_NEO4J_PASSWORD", "DOCINTAKE_API_KEYS", "DOCINTAKE_SERVICE_KEY",
}
# Kinds whose schemas are not Kubernetes' own: checked here against their CRD (KEDA) or by rules (ServiceMonitor).
CUSTOM_KINDS = {"ScaledObject", "ServiceMonitor"}
BROKER_GRACEFUL_TIMEOUT_SECONDS = 30  # docintake.platform.messaging.make_broker
UVICORN_GRACEFUL_SHUTDOWN_SECONDS = 20  # docintake.platform.http_server.server_config

Manifest = dict[str, Any]


@pytest.fixture(scope="session")
def helm() -> Path:
    """The cached Helm binary; the first run on a machine builds it (minutes)."""
    return install_helm()


def run_helm(helm: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *arguments], capture_output=True, text=True, stdin=subprocess.DEVNULL)


def values_arguments(case: str) -> list[str]:
    values = CASES[case]
    return ["--values", str(values)] if values else []


@cache
def render(helm: Path, case: str, *extra: str) -> tuple[Manifest, ...]:
    result = run_helm(helm, "template", RELEASE, str(CHART), "--namespace", "docintake",
                      "--kube-version", KUBERNETES_VERSION, *values_arguments(case), *extra)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def of_kind(manifests: tuple[Manifest, ...], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def component_of(manifest: Manifest) -> str:
    return manifest["metadata"]["labels"]["app.kubernetes.io/component"]


def name_of(component: str) -> str:
    return f"{RELEASE}-docintake-{component}"


def known_settings(component: str) -> set[str]:
    module, name = SETTINGS[component]
    settings_class = getattr(importlib.import_module(module), name)
    return {f"DOCINTAKE_{field.upper()}" for field in settings_class.model_fields}


def strict(schema: Any) -> Any:
    """The CRD schema as the API server applies it with strict field validation: an object that lists
    its properties and neither additionalProperties nor x-kubernetes-preserve-unknown-fields admits
    no other field (jsonschema would otherwise accept a misspelt one)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tightened = {key: strict(value) for key, value in schema.items()}
    if ("properties" in tightened and "additionalProperties" not in tightened
            and not tightened.get("x-kubernetes-preserve-unknown-fields")):
        tightened["additionalProperties"] = False
    return tightened


@cache
def scaled_object_schema() -> Any:
    return strict(yaml.safe_load((HERE / "keda-scaledobject-schema.yaml").read_text()))


params = pytest.mark.parametrize("case", list(CASES))


@params
def test_helm_lint_passes(helm, case):
    result = run_helm(helm, "lint", "--strict", str(CHART), "--kube-version", KUBERNETES_VERSION,
                      *values_arguments(case))
    assert result.returncode == 0, result.stdout + result.stderr


@params
def test_every_rendered_manifest_is_valid_for_kubernetes(helm, case):
    manifests = render(helm, case)
    kinds = {m["kind"] for m in manifests}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "NetworkPolicy"} <= kinds
    for manifest in manifests:
        if manifest["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{manifest['kind']} {manifest['metadata']['name']}: {error.message} at {list(error.path)}")


def test_the_kubernetes_schemas_refuse_a_misspelt_field(helm):
    deployment = copy.deepcopy(of_kind(render(helm, "defaults"), "Deployment")[name_of("gateway")])
    deployment["spec"]["template"]["spec"]["terminationGracePeriod"] = 60
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@params
def test_scaled_objects_match_kedas_crd_schema(helm, case):
    for name, scaled in of_kind(render(helm, case), "ScaledObject").items():
        try:
            jsonschema.validate(scaled, scaled_object_schema())
        except jsonschema.ValidationError as error:
            pytest.fail(f"ScaledObject {name}: {error.message} at {list(error.path)}")


def test_the_crd_schema_refuses_a_misspelt_or_mistyped_scaled_object(helm):
    scaled = of_kind(render(helm, "defaults"), "ScaledObject")[name_of("ingestor")]
    misspelt = copy.deepcopy(scaled)
    misspelt["spec"]["cooldownPeriods"] = misspelt["spec"].pop("cooldownPeriod")
    mistyped = copy.deepcopy(scaled)
    mistyped["spec"]["triggers"][0]["metadata"]["value"] = 20
    for broken in (misspelt, mistyped):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, scaled_object_schema())


@params
def test_no_deployment_is_scaled_by_both_keda_and_an_hpa(helm, case):
    manifests = render(helm, case)
    deployments = of_kind(manifests, "Deployment")
    targets: dict[str, list[str]] = {}
    for kind in ("ScaledObject", "HorizontalPodAutoscaler"):
        for scaler in of_kind(manifests, kind).values():
            target = scaler["spec"]["scaleTargetRef"]
            assert target["kind"] == "Deployment" and target["name"] in deployments, scaler["metadata"]["name"]
            targets.setdefault(target["name"], []).append(kind)
    assert all(len(kinds) == 1 for kinds in targets.values()), targets
    for name, deployment in deployments.items():
        # A scaled Deployment leaves its replica count to the scaler, or every upgrade would reset it.
        assert ("replicas" in deployment["spec"]) == (name not in targets), name


@params
def test_the_gateway_scales_by_cpu_on_an_hpa(helm, case):
    hpa = of_kind(render(helm, case), "HorizontalPodAutoscaler")[name_of("gateway")]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["type"] == "Utilization"
    assert 1 < hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


@pytest.mark.parametrize("case", ["defaults", "existing-secret"])
def test_consumers_scale_on_their_queue_depth_with_bounds_activation_cooldown_and_fallback(helm, case):
    manifests = render(helm, case)
    scaled_objects = of_kind(manifests, "ScaledObject")
    deployments = of_kind(manifests, "Deployment")
    assert set(scaled_objects) == {name_of("ingestor"), name_of("ocr"), name_of("status")}
    for component, queues in QUEUES.items():
        spec = scaled_objects[name_of(component)]["spec"]
        assert 0 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
        assert spec["cooldownPeriod"] > 0 and spec["pollingInterval"] > 0
        assert 0 < spec["fallback"]["replicas"] <= spec["maxReplicaCount"]
        assert spec["fallback"]["failureThreshold"] > 0
        assert [trigger["metadata"]["queueName"] for trigger in spec["triggers"]] == queues
        (container,) = deployments[name_of(component)]["spec"]["template"]["spec"]["containers"]
        for trigger in spec["triggers"]:
            metadata = trigger["metadata"]
            assert trigger["type"] == "rabbitmq" and metadata["mode"] == "QueueLength"
            assert float(metadata["value"]) > 0 and float(metadata["activationValue"]) >= 0
            # KEDA's fallback only works for AverageValue metrics.
            assert trigger["metricType"] == "AverageValue"
            # KEDA reads the broker's URL from the target's first container, which must have it.
            assert metadata["hostFromEnv"] in {variable["name"] for variable in container["env"]}


def test_without_keda_every_service_scales_on_an_hpa(helm):
    manifests = render(helm, "hpa")
    assert not of_kind(manifests, "ScaledObject")
    assert set(of_kind(manifests, "HorizontalPodAutoscaler")) == {name_of(c) for c in COMPONENTS}


@pytest.mark.parametrize("setting, refusal", [
    ("ingestor.autoscaling.kind=kedaa", "/ingestor/autoscaling/kind"),
    ("gatway.port=8000", "'gatway' not allowed"),
    ("status.terminationGracePeriodSeconds=10", "/status/terminationGracePeriodSeconds"),
])
def test_the_values_schema_refuses_unknown_keys_and_values(helm, setting, refusal):
    result = run_helm(helm, "template", RELEASE, str(CHART), "--set", setting)
    assert result.returncode != 0 and refusal in result.stderr, result.stderr


def test_keda_on_the_gateway_is_refused_by_the_schema_and_by_the_templates(helm):
    for skip in ([], ["--skip-schema-validation"]):
        result = run_helm(helm, "template", RELEASE, str(CHART), "--set", "gateway.autoscaling.kind=keda", *skip)
        assert result.returncode != 0
        expected = "gateway.autoscaling.kind must be one of hpa, none" if skip else "/gateway/autoscaling/kind"
        assert expected in result.stderr, result.stderr


@params
def test_every_container_has_probes_resources_and_time_to_shut_down(helm, case):
    deployments = of_kind(render(helm, case), "Deployment")
    assert set(deployments) == {name_of(c) for c in COMPONENTS}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"]:
            port_names = {port["name"] for port in container["ports"]}
            for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"),
                                ("readinessProbe", "/readyz")):
                assert container[probe]["httpGet"]["path"] == path, (name, probe)
                assert container[probe]["httpGet"]["port"] in port_names, (name, probe)
            resources = container["resources"]
            for resource in ("cpu", "memory"):
                assert resources["requests"][resource] and resources["limits"][resource], (name, resource)
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert {"mountPath": "/tmp", "name": "tmp"} in container["volumeMounts"]
            pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
            pre_stop_seconds = int(pre_stop[-1]) if pre_stop else 0
            # The web services first drain HTTP (uvicorn), then stop consuming (broker); the ingestor only the latter.
            needed = pre_stop_seconds + BROKER_GRACEFUL_TIMEOUT_SECONDS
            if component_of(deployment) not in INGESTORS:
                needed += UVICORN_GRACEFUL_SHUTDOWN_SECONDS
            assert pod["terminationGracePeriodSeconds"] > needed, name
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0


def test_the_ingestor_runs_as_many_parser_processes_as_its_cpu_limit(helm):
    manifests = render(helm, "defaults")
    config = of_kind(manifests, "ConfigMap")[name_of("ingestor")]["data"]
    (container,) = of_kind(manifests, "Deployment")[name_of("ingestor")]["spec"]["template"]["spec"]["containers"]
    # Without DOCINTAKE_WORKERS the ingestor would start one per core of the node, not of the pod.
    assert int(config["DOCINTAKE_WORKERS"]) == int(container["resources"]["limits"]["cpu"])


def test_ocr_workers_of_their_own_take_the_ocr_queue_and_the_ingestor_text_only_unless_disabled(helm):
    manifests = render(helm, "defaults")
    config_maps = of_kind(manifests, "ConfigMap")
    ingestor, ocr = config_maps[name_of("ingestor")]["data"], config_maps[name_of("ocr")]["data"]
    assert (ingestor["DOCINTAKE_INGESTOR_ROLE"], ocr["DOCINTAKE_INGESTOR_ROLE"]) == ("text", "ocr")
    (container,) = of_kind(manifests, "Deployment")[name_of("ocr")]["spec"]["template"]["spec"]["containers"]
    assert container["image"].split("/")[-1].startswith("docintake-ingestor:")
    # A pod OCRs as many documents at once as it has CPUs (tesseract runs on one thread).
    assert int(ocr["DOCINTAKE_OCR_WORKERS"]) == int(container["resources"]["limits"]["cpu"])
    (trigger,) = of_kind(manifests, "ScaledObject")[name_of("ocr")]["spec"]["triggers"]
    assert trigger["metadata"]["queueName"] == OCR_QUEUE_NAME

    without = render(helm, "defaults", "--set", "ocr.enabled=false")
    assert not any(component_of(m) == "ocr" for m in without if "labels" in m["metadata"])
    assert of_kind(without, "ConfigMap")[name_of("ingestor")]["data"]["DOCINTAKE_INGESTOR_ROLE"] == "all"


@params
def test_every_deployment_has_a_disruption_budget(helm, case):
    manifests = render(helm, case)
    budgets = of_kind(manifests, "PodDisruptionBudget").values()
    for name, deployment in of_kind(manifests, "Deployment").items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()]
        assert len(matching) == 1, name


def peers_from_outside(rule: Manifest) -> list[Manifest]:
    """The peers of an ingress rule that may be outside the namespace: no `from` at all means anyone."""
    peers = rule.get("from")
    if not peers:
        return [{"anyone": True}]
    return [peer for peer in peers if "podSelector" not in peer or "namespaceSelector" in peer or "ipBlock" in peer]


@params
def test_only_the_gateway_admits_ingress_from_outside_the_namespace(helm, case):
    manifests = render(helm, case)
    policies = of_kind(manifests, "NetworkPolicy")
    metrics_from = (yaml.safe_load(CASES[case].read_text()) if CASES[case] else {}).get(
        "networkPolicy", {}).get("metricsFrom", [])
    for name, deployment in of_kind(manifests, "Deployment").items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        (policy,) = [p for p in policies.values()
                     if p["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()]
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        ports = {port["containerPort"] for port in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]}
        rules = policy["spec"]["ingress"]
        for rule in rules:
            assert {port["port"] for port in rule["ports"]} <= ports, name
        outside = [peer for rule in rules for peer in peers_from_outside(rule)]
        if component_of(deployment) == "gateway":
            assert outside, "the gateway must be reachable from outside"
        else:
            # Only the Prometheus peers named in networkPolicy.metricsFrom, and none by default.
            assert all(peer in metrics_from for peer in outside), (name, outside)
    if not metrics_from:
        for component in INGESTORS:
            assert of_kind(manifests, "NetworkPolicy")[name_of(component)]["spec"]["ingress"] == []


@params
def test_settings_come_from_a_configmap_and_secrets_from_a_secret(helm, case):
    manifests = render(helm, case)
    config_maps = of_kind(manifests, "ConfigMap")
    secrets = of_kind(manifests, "Secret")
    existing = (yaml.safe_load(CASES[case].read_text()) if CASES[case] else {}).get("secrets", {}).get(
        "existingSecret")
    if existing:
        assert not secrets, "the chart makes no Secret when an existing one is named"
    else:
        assert set(secrets) == {f"{RELEASE}-docintake-secrets"}
    for name, deployment in of_kind(manifests, "Deployment").items():
        component = component_of(deployment)
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        (source,) = container["envFrom"]
        config = config_maps[source["configMapRef"]["name"]]["data"]
        assert not set(config) & SECRET_SETTINGS, name
        unknown = (set(config) | {variable["name"] for variable in container["env"]}) - known_settings(component)
        assert not unknown, f"{name} sets unknown settings {unknown}"
        assert config[f"DOCINTAKE_{'INGESTOR' if component in INGESTORS else component.upper()}_HOST"] == "0.0.0.0"
        for variable in container["env"]:
            reference = variable["valueFrom"]["secretKeyRef"]
            assert reference["key"] == variable["name"] and variable["name"] in SECRET_SETTINGS
            if existing:
                assert reference["name"] == existing
            elif not reference.get("optional"):
                assert reference["key"] in secrets[reference["name"]]["stringData"]
        assert "DOCINTAKE_RABBITMQ_URL" in {variable["name"] for variable in container["env"]}
    gateway = config_maps[name_of("gateway")]["data"]
    assert gateway["DOCINTAKE_STATUS_URL"] == f"http://{name_of('status')}:8002"


@params
def test_service_monitors_scrape_each_services_metrics_port_only_when_enabled(helm, case):
    manifests = render(helm, case)
    monitors = of_kind(manifests, "ServiceMonitor")
    if case != "servicemonitor":
        assert not monitors
        return
    services = of_kind(manifests, "Service")
    assert set(monitors) == {name_of(c) for c in COMPONENTS}
    for name, monitor in monitors.items():
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        selector = monitor["spec"]["selector"]["matchLabels"]
        (service,) = [s for s in services.values() if selector.items() <= s["metadata"]["labels"].items()]
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["path"] == "/metrics"
        assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}, name


def test_the_tenants_file_is_mounted_from_its_secret_into_the_gateway_and_the_status_service_only(helm):
    deployments = of_kind(render(helm, "tenants"), "Deployment")
    for component in COMPONENTS:
        pod = deployments[name_of(component)]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = {variable["name"]: variable for variable in container["env"]}
        mounted = {mount["name"]: mount for mount in container["volumeMounts"]}
        if component in INGESTORS:
            assert "tenants" not in mounted and "DOCINTAKE_SERVICE_KEY" not in env
            continue
        volume = next(volume for volume in pod["volumes"] if volume["name"] == "tenants")
        assert volume["secret"]["secretName"] == "docintake-tenants"
        config = of_kind(render(helm, "tenants"), "ConfigMap")[name_of(component)]["data"]
        assert config["DOCINTAKE_TENANTS_FILE"] == mounted["tenants"]["mountPath"] + "/tenants.json"
        assert mounted["tenants"]["readOnly"] is True
        assert env["DOCINTAKE_SERVICE_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "DOCINTAKE_SERVICE_KEY"
    (secret,) = of_kind(render(helm, "tenants"), "Secret").values()
    assert secret["stringData"]["DOCINTAKE_SERVICE_KEY"] == "a-long-random-service-key"
    defaults = of_kind(render(helm, "defaults"), "Deployment")[name_of("gateway")]["spec"]["template"]["spec"]
    assert [volume["name"] for volume in defaults["volumes"]] == ["tmp"]

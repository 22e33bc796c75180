"""The chart renders and lints with the real Helm engine, every object passes its schema, and the
rendered configuration agrees with the code it deploys (settings, Serve app, operator CLI)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.chart.conftest import (
    CHART,
    CI_VALUES,
    NAMESPACE,
    REPO,
    Render,
    one,
    values_of,
)

pytestmark = pytest.mark.integration

CASES = [pytest.param(None, id="defaults")] + [pytest.param(p, id=p.stem) for p in CI_VALUES]


def test_ci_values_exist() -> None:
    assert len(CI_VALUES) >= 3, CI_VALUES


@pytest.mark.parametrize("values_file", CASES)
def test_renders_and_every_object_validates(render: Render, values_file: Path | None) -> None:
    from tests.k8s_schemas import validate

    values = values_of(values_file) if values_file else {}
    objs = render(values)
    kinds = {o["kind"] for o in objs}
    assert {"ConfigMap", "ServiceAccount"} <= kinds
    for obj in objs:
        validate(obj)
        # namespaced objects land in the release namespace (Helm sets it on install)
        assert "namespace" not in obj["metadata"], obj["metadata"]
    names = [(o["kind"], o["metadata"]["name"]) for o in objs]
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize("values_file", CASES)
def test_lints_without_errors_or_warnings(values_file: Path | None) -> None:
    import helm_python

    values = values_of(values_file) if values_file else None
    report = helm_python.lint(CHART, values, strict=True, namespace=NAMESPACE)
    assert report["errors"] == [], report
    serious = [m for m in report["messages"] if m["severity"] >= 2]
    assert serious == [], serious


def test_lint_reports_bad_values() -> None:
    """The lint above can fail: values the schema refuses are lint errors."""
    import helm_python

    report = helm_python.lint(CHART, {"service": {"port": "http"}}, strict=True)
    assert any("/service/port" in e for e in report["errors"]), report


def test_other_release_names_prefix_the_objects(render: Render) -> None:
    from tests.k8s_schemas import validate

    objs = render(name="prod")
    for obj in objs:
        validate(obj)
    config = one(objs, "ConfigMap")["metadata"]["name"]
    assert config == "prod-ai2text-config"
    operator = one(objs, "Deployment", "prod-ai2text-operator")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in operator["containers"][0]["env"]}
    assert json.loads(env["AI2TEXT_OPERATOR__ENV_FROM_CONFIGMAPS"]) == [config]
    assert env["AI2TEXT_OPERATOR__JOB_SERVICE_ACCOUNT"] == "prod-ai2text-ray"
    assert operator["serviceAccountName"] == "prod-ai2text-operator"
    # the RayService keeps its own name: TrainingRuns find it as spec.servingRef.name
    assert one(objs, "RayService")["metadata"]["name"] == "ai2text"


def test_chart_metadata_matches_the_project() -> None:
    import tomllib

    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert chart["apiVersion"] == "v2"
    assert chart["appVersion"] == project["version"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    ray_pins = [r for r in project["optional-dependencies"]["serve"] if r.startswith("ray[")]
    assert ray_pins and all(r.endswith(f"=={values['rayVersion']}") for r in ray_pins), ray_pins


def test_images_point_at_the_project_images(render: Render) -> None:
    from ai2text.config import OperatorSettings

    objs = render()
    version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    service = one(objs, "RayService", "ai2text")
    cluster = service["spec"]["rayClusterConfig"]
    head = cluster["headGroupSpec"]["template"]["spec"]["containers"][0]
    workers = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}
    gpu = workers["gpu"]["template"]["spec"]["containers"][0]
    cpu = workers["cpu"]["template"]["spec"]["containers"][0]
    assert head["image"] == f"ghcr.io/ai2text/ai2text-ray:{version}-cpu"
    assert cpu["image"] == f"ghcr.io/ai2text/ai2text-ray:{version}-cpu"
    assert gpu["image"] == f"ghcr.io/ai2text/ai2text-ray:{version}-gpu"
    assert gpu["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "nvidia.com/gpu" not in cpu["resources"].get("limits", {})
    operator = one(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert operator["image"] == f"ghcr.io/ai2text/ai2text-operator:{version}"
    env = {e["name"]: e.get("value") for e in operator["env"]}
    # the operator's own default and the chart agree on the training image
    assert env["AI2TEXT_OPERATOR__RAY_IMAGE"] == OperatorSettings().ray_image == gpu["image"]
    assert env["AI2TEXT_OPERATOR__RAY_VERSION"] == OperatorSettings().ray_version
    assert cluster["rayVersion"] == OperatorSettings().ray_version


def test_cpu_only_trains_on_the_cpu_image(render: Render) -> None:
    objs = render(values_of(CHART / "ci" / "cpu-only-values.yaml"))
    operator = one(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in operator["env"]}
    assert env["AI2TEXT_OPERATOR__RAY_IMAGE"].endswith("-cpu")
    groups = one(objs, "RayService")["spec"]["rayClusterConfig"]["workerGroupSpecs"]
    assert [g["groupName"] for g in groups] == ["cpu"]
    assert "--standalone" in operator["args"]
    assert not [o for o in objs if o["kind"] == "KopfPeering"]


def _serve_config(objs: list[dict[str, Any]], name: str = "ai2text") -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(one(objs, "RayService", name)["spec"]["serveConfigV2"])
    return config


@pytest.mark.parametrize("values_file", CASES)
def test_serve_config_matches_the_application(render: Render, values_file: Path | None) -> None:
    """Same application as deployments/serve_config.yaml, every deployment app.py builds, and
    the user_configs the operator patches on promotion."""
    from deployments.serve_config import APP_NAME, MODEL_DEPLOYMENTS, load_serve_config

    values = values_of(values_file) if values_file else {}
    objs = render(values)
    services = [o for o in objs if o["kind"] == "RayService"]
    if not services:
        pytest.skip("this configuration has no RayService")
    config = _serve_config(objs, services[0]["metadata"]["name"])
    local = load_serve_config()
    (app,) = config["applications"]
    (local_app,) = local["applications"]
    for key in ("name", "route_prefix", "import_path"):
        assert app[key] == local_app[key], key
    assert app["name"] == APP_NAME
    assert config["http_options"] == {"host": "0.0.0.0", "port": 8000}
    deployments = {d["name"]: d for d in app["deployments"]}
    assert set(deployments) == _deployment_names()
    for name in MODEL_DEPLOYMENTS:
        assert "model_version" in deployments[name]["user_config"]
        assert set(deployments[name]["autoscaling_config"]) == {
            "min_replicas",
            "max_replicas",
            "target_ongoing_requests",
        }
    gpus = deployments["asr"]["ray_actor_options"]["num_gpus"]
    chart_values = yaml.safe_load((CHART / "values.yaml").read_text())
    expected = values.get("serve", {}).get("asr", {}).get("numGpus")
    assert gpus == (expected if expected is not None else chart_values["serve"]["asr"]["numGpus"])


def _deployment_names() -> set[str]:
    """The deployment names app.py binds, read from the @serve.deployment decorators."""
    import ast

    names: set[str] = set()
    for path in (REPO / "deployments").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                for deco in node.decorator_list:
                    if isinstance(deco, ast.Call) and ast.unparse(deco.func) == "serve.deployment":
                        for kw in deco.keywords:
                            if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                                names.add(str(kw.value.value))
    assert {"asr", "stream_asr", "ingress"} <= names, names
    return names


def test_operator_promotion_patch_applies_to_the_rendered_config(render: Render) -> None:
    """set_model_version (what the operator does on promotion) finds both model deployments in
    the chart's serveConfigV2 and leaves the rest alone."""
    from deployments.serve_config import set_model_version

    before = _serve_config(render())
    after = set_model_version(before, "v42")
    changed = {
        d["name"]
        for old, d in zip(
            before["applications"][0]["deployments"],
            after["applications"][0]["deployments"],
            strict=True,
        )
        if old != d
    }
    assert changed == {"asr", "stream_asr"}
    for deployment in after["applications"][0]["deployments"]:
        if deployment["name"] in changed:
            assert deployment["user_config"] == {"model_version": "v42"}


def test_model_version_value_reaches_both_model_deployments(render: Render) -> None:
    config = _serve_config(render({"serve": {"modelVersion": "v-2024.1"}}))
    deployments = {d["name"]: d for d in config["applications"][0]["deployments"]}
    assert deployments["asr"]["user_config"] == {"model_version": "v-2024.1"}
    assert deployments["stream_asr"]["user_config"] == {"model_version": "v-2024.1"}
    config = _serve_config(render())
    deployments = {d["name"]: d for d in config["applications"][0]["deployments"]}
    assert deployments["asr"]["user_config"] == {"model_version": None}


def test_rayservice_name_is_the_trainingrun_default_serving_ref(render: Render) -> None:
    from tests.k8s_schemas import crd_schema

    schema = crd_schema("TrainingRun")
    default = schema["properties"]["spec"]["properties"]["servingRef"]["properties"]["name"]
    assert one(render(), "RayService")["metadata"]["name"] == default["default"]
    assert one(render({"rayService": {"name": "asr-prod"}}), "RayService", "asr-prod")


def _env_of(container: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> dict[str, str]:
    """A container's environment as the kubelet builds it, with placeholder secret values."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        else:
            ref = entry["valueFrom"]["secretKeyRef"]
            env[entry["name"]] = _placeholder(entry["name"], ref["name"], ref["key"])
    return env


def _placeholder(variable: str, secret: str, key: str) -> str:
    if variable == "AI2TEXT_DATABASE_URL":
        return "postgresql://ai2text:pw@postgres.db.svc:5432/ai2text"
    return f"{secret}-{key}-" + "x" * 40  # long enough for a JWT secret


@pytest.mark.parametrize("values_file", CASES)
def test_every_container_environment_is_valid_settings(
    render: Render, values_file: Path | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ai2text.config accepts the environment of every pod: no misspelled AI2TEXT_* variable
    (the settings forbid unknown ones), prod's checks pass, and the values arrive."""
    from ai2text.config import Settings, load_settings

    values = values_of(values_file) if values_file else {}
    objs = render(values)
    config_maps = {o["metadata"]["name"]: o["data"] for o in objs if o["kind"] == "ConfigMap"}
    containers = [
        c
        for o in objs
        if o["kind"] in {"Deployment", "RayService"}
        for _, template in _templates(o)
        for c in template["spec"]["containers"]
    ]
    assert containers
    for container in containers:
        env = _env_of(container, config_maps)
        # nested misspellings fail in load_settings (extra="forbid"); top-level ones would not
        for name in env:
            if name.startswith("AI2TEXT_"):
                field = name.removeprefix("AI2TEXT_").split("__")[0].lower()
                assert field in Settings.model_fields, f"{name}: no such setting"
        for name in list(os.environ):
            if name.startswith("AI2TEXT_"):
                monkeypatch.delenv(name)
        for name, value in env.items():
            if name.startswith("AI2TEXT_"):
                monkeypatch.setenv(name, value)
        settings = load_settings()
        assert settings.env == "prod"
        assert settings.serve.host == "0.0.0.0"
        assert settings.blob_backend == "s3"
        assert settings.database_url is not None
        assert str(settings.home) == "/var/lib/ai2text"
        vectors = values.get("config", {}).get("vectors", {}).get("backend", "pgvector")
        assert settings.vector_backend == vectors
        if settings.auth.jwt_public_key_file is not None:
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert str(settings.auth.jwt_public_key_file.parent) in mounts


def _templates(obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    from tests.k8s_schemas import pod_templates

    return pod_templates(obj)


def test_operator_settings_reach_the_operator(
    render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ai2text.config import load_settings

    objs = render(values_of(CHART / "ci" / "qdrant-monitoring-values.yaml"))
    config_maps = {o["metadata"]["name"]: o["data"] for o in objs if o["kind"] == "ConfigMap"}
    container = one(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    for name, value in _env_of(container, config_maps).items():
        if name.startswith("AI2TEXT_"):
            monkeypatch.setenv(name, value)
    operator = load_settings().operator
    assert operator.env_from_configmaps == ("ai2text-config",)
    assert operator.env_from_secrets == ("ai2text-training-env",)
    assert operator.job_service_account == "ai2text-ray"
    assert operator.peering == "ai2text-prod"
    assert operator.poll_s == 15
    one(objs, "KopfPeering", "ai2text-prod")
    one(objs, "ServiceAccount", "ai2text-ray")


def test_training_jobs_get_the_referenced_secrets(render: Render) -> None:
    objs = render({"secrets": {"qdrantApiKey": {"name": "qdrant"}}, "config": _QDRANT})
    container = one(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert json.loads(env["AI2TEXT_OPERATOR__ENV_FROM_SECRETS"]) == ["ai2text-secrets", "qdrant"]
    assert json.loads(env["AI2TEXT_OPERATOR__ENV_FROM_CONFIGMAPS"]) == ["ai2text-config"]


_QDRANT = {"vectors": {"backend": "qdrant", "qdrantUrl": "http://qdrant:6333"}}


def test_operator_arguments_parse_with_the_cli(render: Render) -> None:
    """The image's ENTRYPOINT (ai2text operator run) plus the chart's args is a valid command."""
    from ai2text.cli.main import build_parser

    for values in ({}, values_of(CHART / "ci" / "cpu-only-values.yaml")):
        container = one(render(values), "Deployment")["spec"]["template"]["spec"]["containers"][0]
        assert "command" not in container  # the ENTRYPOINT stays (docker/operator.Dockerfile)
        args = build_parser().parse_args(["operator", "run", *container["args"]])
        assert args.namespace == NAMESPACE
        assert args.liveness_port == container["ports"][0]["containerPort"] == 8080
        assert args.standalone == bool(values)
        probe = container["livenessProbe"]["httpGet"]
        assert probe["path"] == "/healthz" and probe["port"] == container["ports"][0]["name"]


def test_operator_pod_is_locked_down(render: Render) -> None:
    spec = one(render(), "Deployment")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 10001
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"] and container["resources"]["limits"]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", "/var/lib/ai2text"} <= mounts


def test_no_secret_material_in_the_chart(render: Render) -> None:
    """Secrets are references only: no Secret objects, no literal value of a secret variable."""
    secret_vars = {
        "AI2TEXT_DATABASE_URL",
        "AI2TEXT_S3__ACCESS_KEY_ID",
        "AI2TEXT_S3__SECRET_ACCESS_KEY",
        "AI2TEXT_QDRANT_API_KEY",
        "AI2TEXT_AUTH__JWT_SECRET",
    }
    for path in [None, *CI_VALUES]:
        objs = render(values_of(path) if path else {})
        assert not [o for o in objs if o["kind"] == "Secret"]
        for obj in objs:
            if obj["kind"] == "ConfigMap":
                assert not secret_vars & set(obj["data"])
            for _, template in _templates(obj):
                for container in template["spec"]["containers"]:
                    for entry in container.get("env", []):
                        if entry["name"] in secret_vars:
                            assert "value" not in entry and "secretKeyRef" in entry["valueFrom"]


def test_api_service_selects_the_serving_head(render: Render) -> None:
    objs = render(values_of(CHART / "ci" / "qdrant-monitoring-values.yaml"))
    service = one(objs, "Service")
    head = one(objs, "RayService")["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]
    labels = head["metadata"]["labels"] | {"ray.io/serve": "true"}
    assert service["spec"]["selector"].items() <= labels.items()
    ports = {p["name"]: p["containerPort"] for p in head["spec"]["containers"][0]["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] == "serve" and ports["serve"] == 8000
    monitor = one(objs, "ServiceMonitor")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0] == {
        "port": "http",
        "path": "/metrics",
        "interval": "30s",
    }
    ingress = one(objs, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}


def test_network_policies_cover_the_ray_pods(render: Render) -> None:
    objs = render(values_of(CHART / "ci" / "qdrant-monitoring-values.yaml"))
    policies = {o["metadata"]["name"]: o for o in objs if o["kind"] == "NetworkPolicy"}
    assert set(policies) == {"ai2text-ray", "ai2text-operator"}
    ray = policies["ai2text-ray"]["spec"]
    head_labels = one(objs, "RayService")["spec"]["rayClusterConfig"]["headGroupSpec"]["template"][
        "metadata"
    ]["labels"]
    for expr in ray["podSelector"]["matchExpressions"]:
        assert head_labels[expr["key"]] in expr["values"]
    api_rule = ray["ingress"][-1]
    assert api_rule["ports"] == [{"port": 8000, "protocol": "TCP"}]
    assert api_rule["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }
    assert not [o for o in render() if o["kind"] in {"NetworkPolicy", "ServiceMonitor", "Ingress"}]

"""tests/k8s_schemas.py rejects what the API server (or KubeRay) would: each check can fail."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.integration.chart.conftest import REPO


def _pod_spec() -> dict[str, Any]:
    return {"containers": [{"name": "ray-head", "image": "ghcr.io/ai2text/ai2text-ray:0.1.0-cpu"}]}


def _rayjob() -> dict[str, Any]:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": "vi-main-manual-1"},
        "spec": {
            "entrypoint": "ai2text train --dataset abc",
            "shutdownAfterJobFinishes": True,
            "ttlSecondsAfterFinished": 300,
            "runtimeEnvYAML": "env_vars:\n  A: b\n",
            "rayClusterSpec": {
                "rayVersion": "2.60.0",
                "headGroupSpec": {
                    "rayStartParams": {"num-cpus": "0"},
                    "template": {"spec": _pod_spec()},
                },
                "workerGroupSpecs": [
                    {
                        "groupName": "gpu",
                        "replicas": 1,
                        "minReplicas": 1,
                        "maxReplicas": 1,
                        "rayStartParams": {},
                        "template": {"spec": _pod_spec()},
                    }
                ],
            },
            "submitterPodTemplate": {
                "spec": {"restartPolicy": "Never", **_pod_spec()},
            },
        },
    }


def _sample(name: str) -> dict[str, Any]:
    from tests.k8s_schemas import load_file

    (doc,) = load_file(REPO / "manifests" / "samples" / f"{name}.yaml")
    return doc


def test_a_good_rayjob_passes_and_its_templates_are_counted() -> None:
    from tests.k8s_schemas import validate, validate_pod_templates

    validate(_rayjob())
    assert validate_pod_templates(_rayjob()) == 3


def _set(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    node = obj
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return obj


_DELETE = object()
_W = "spec.rayClusterSpec.workerGroupSpecs.0"
_H = "spec.rayClusterSpec.headGroupSpec"

RAYJOB_BREAKS = [
    ("spec.rayClusterSpec.headGroupSpec.rayStartParams", {"num-cpus": 0}, "is not of type"),
    (f"{_W}.template.spec.containers.0.bogus", 1, "bogus"),
    (f"{_W}.template.spec.containers.0.resources", {"limits": {"cpu": "lots"}}, "lots"),
    (
        f"{_W}.template.spec.containers.0.volumeMounts",
        [{"name": "x", "mountPath": "/x"}],
        "unknown volume",
    ),
    (
        f"{_W}.template.spec.containers.0.ports",
        [{"name": "dashboard-port-x", "containerPort": 1}],
        "port name",
    ),
    (f"{_W}.minReplicas", 2, "minReplicas > max"),
    (f"{_W}.replicas", 5, "replicas outside"),
    (f"{_W}.groupName", _DELETE, "groupName"),
    (f"{_H}.template.spec.containers.0.image", _DELETE, "without image"),
    ("spec.submitterPodTemplate.spec.restartPolicy", "Sometimes", "Sometimes"),
    ("spec.entrypoint", _DELETE, "entrypoint is required"),
    ("spec.clusterSelector", {"ray.io/cluster": "x"}, "exactly one of"),
    ("spec.submissionMode", "Batch", "Batch"),
    ("spec.rayClusterConfig", {}, "rayClusterConfig"),
    ("spec.runtimeEnvYAML", "- a list", "not a mapping"),
    ("metadata.name", "Not_Valid", "DNS"),
    ("spec.suspend", True, None),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), RAYJOB_BREAKS, ids=[b[0] for b in RAYJOB_BREAKS]
)
def test_a_broken_rayjob_fails(path: str, value: Any, message: str | None) -> None:
    from tests.k8s_schemas import validate

    broken = _set(_rayjob(), path, value)
    if path == "spec.suspend":
        broken = _set(broken, "spec.shutdownAfterJobFinishes", False)
        message = "shutdownAfterJobFinishes"
    with pytest.raises(AssertionError) as caught:
        validate(broken)
    assert message is not None and message in str(caught.value)


def test_rayservice_serve_config_is_checked_by_ray_serve() -> None:
    from tests.k8s_schemas import validate

    cluster = _rayjob()["spec"]["rayClusterSpec"]
    service = {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": "ai2text"},
        "spec": {
            "serveConfigV2": "applications:\n  - name: a\n    import_path: m:app\n",
            "rayClusterConfig": cluster,
        },
    }
    validate(service)
    bad = "applications:\n  - name: a\n    import_path: m:app\n    deployments:\n"
    bad += "      - name: asr\n        num_replicas: -3\n"
    with pytest.raises(AssertionError, match="serveConfigV2"):
        validate(_set(service, "spec.serveConfigV2", bad))
    with pytest.raises(AssertionError, match="no applications"):
        validate(_set(service, "spec.serveConfigV2", "proxy_location: HeadOnly\n"))


CUSTOM_BREAKS = [
    ("dataset", "spec.schedule.dailyAt", "25:00", "does not match"),
    ("dataset", "spec.hoursThreshold", 0, "minimum"),
    ("dataset", "spec.selection.unknownFilter", True, "unknownFilter"),
    ("dataset", "spec", _DELETE, "'spec' is a required property"),
    ("trainingrun", "spec.precision", "fp8", "fp8"),
    ("trainingrun", "spec.datasetRef", _DELETE, "datasetRef"),
    ("trainingrun", "spec.trainer.memoryPerWorker", "lots", "does not match"),
    ("trainingrun", "spec.promotion.werCeiling", 0, "minimum"),
    ("trainingrun", "status.phase", "Dancing", "Dancing"),
    ("trainingrun", "metadata.labels", {"bad label": "x"}, "bad label"),
]


@pytest.mark.parametrize(
    ("sample", "path", "value", "message"),
    CUSTOM_BREAKS,
    ids=[f"{b[0]}:{b[1]}" for b in CUSTOM_BREAKS],
)
def test_a_broken_custom_resource_fails(sample: str, path: str, value: Any, message: str) -> None:
    from tests.k8s_schemas import validate

    doc = _sample(sample)
    if path.startswith("status."):
        doc["status"] = {}
    with pytest.raises(AssertionError) as caught:
        validate(_set(doc, path, value))
    assert message in str(caught.value)


def test_defaults_are_applied_top_down() -> None:
    from tests.k8s_schemas import with_defaults

    run = with_defaults(
        {
            "apiVersion": "ai2text.io/v1alpha1",
            "kind": "TrainingRun",
            "metadata": {"name": "r"},
            "spec": {"datasetRef": {"name": "d"}},
        }
    )
    assert run["spec"]["model"] == {"preset": "tiny", "baseVersion": "production"}
    assert run["spec"]["servingRef"] == {"name": "ai2text"}
    assert run["spec"]["trainer"]["gpusPerWorker"] == 1


def test_builtin_kinds_are_strict_and_unknown_kinds_fail() -> None:
    from tests.k8s_schemas import crd_schema, validate

    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
    validate(config_map)
    with pytest.raises(AssertionError, match="unexpected"):
        validate(config_map | {"dta": {}})
    with pytest.raises(AssertionError, match="Couldn't find schema"):
        validate({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    with pytest.raises(AssertionError, match="no CRD for kind"):
        crd_schema("Widget")
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}},
        },
    }
    with pytest.raises(AssertionError, match="no containers"):
        validate(deployment)


def test_service_monitor_fields_are_checked() -> None:
    from tests.k8s_schemas import validate

    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "m"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "endpoints": [{"port": "http"}]},
    }
    validate(monitor)
    with pytest.raises(AssertionError, match="path"):
        validate(_set(monitor, "spec.endpoints", [{"port": "http", "path": "metrics"}]))
    with pytest.raises(AssertionError, match="endpoints"):
        validate(_set(monitor, "spec.endpoints", _DELETE))


def test_a_crd_with_an_invalid_default_fails() -> None:
    from tests.k8s_schemas import check_crd, crds

    crd = next(c for c in crds() if c["spec"]["names"]["kind"] == "TrainingRun")
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["precision"]["default"] = "fp8"
    with pytest.raises(AssertionError, match=r"default of spec\.precision"):
        check_crd(crd)

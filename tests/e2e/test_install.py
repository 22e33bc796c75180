"""Install the CRDs and the chart into a real cluster, apply the sample Dataset, and see the
operator reconcile it (a Ready condition appears in its status)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import CHART, REPO, Cluster, wait_for

RELEASE = "ai2text-e2e"


@pytest.fixture(scope="module")
def release(cluster: Cluster) -> Iterator[str]:
    import helm_python

    version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    image = os.environ.get(
        "AI2TEXT_E2E_OPERATOR_IMAGE", f"ghcr.io/ai2text/ai2text-operator:{version}"
    )
    repository, _, tag = image.rpartition(":")
    serving = cluster.has_crd("rayservices.ray.io")  # KubeRay installed: serve as well
    values: dict[str, Any] = {
        "image": {"operator": {"repository": repository, "tag": tag}},
        "secrets": {
            "s3AccessKeyId": {"name": ""},
            "s3SecretAccessKey": {"name": ""},
            "jwt": {"secret": {"name": "ai2text-secrets"}, "publicKey": {"name": ""}},
        },
        "operator": {"resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}},
        "rayService": {
            "enabled": serving,
            "autoscaling": False,
            "gpuWorkers": {"enabled": False},
            "cpuWorkers": {"replicas": 1, "minReplicas": 1, "maxReplicas": 1},
        },
        "serve": {"asr": {"numGpus": 0}, "streamAsr": {"numGpus": 0}},
        "service": {"enabled": serving},
    }
    config = helm_python.Config(namespace=cluster.namespace)
    try:
        config.install(CHART, RELEASE, values, namespace=cluster.namespace, timeout=120)
        yield RELEASE
    finally:
        # the Dataset's finalizer needs the operator: delete the resources before the release
        cluster.run("delete", "datasets,trainingruns", "--all", "--timeout=120s", check=False)
        config.uninstall(RELEASE, ignore_not_found=True, timeout=120)
        config.close()


def test_crds_are_installed_and_served(cluster: Cluster, release: str) -> None:
    for name in ("datasets.ai2text.io", "trainingruns.ai2text.io", "kopfpeerings.kopf.dev"):
        assert cluster.has_crd(name), name
    peering = cluster.get("kopfpeering", "ai2text")
    assert peering["metadata"]["name"] == "ai2text"


def test_sample_dataset_gets_a_ready_condition(cluster: Cluster, release: str) -> None:
    cluster.run(
        "rollout", "status", f"deployment/{release}-operator", f"--timeout={cluster.timeout_s:.0f}s"
    )
    cluster.run("apply", "-f", str(REPO / "manifests" / "samples" / "dataset.yaml"))

    def ready() -> dict[str, Any] | None:
        status = cluster.get("dataset", "vi-main").get("status") or {}
        return next((c for c in status.get("conditions", []) if c["type"] == "Ready"), None)

    condition = wait_for("the Dataset's Ready condition", ready, cluster.timeout_s)
    assert condition["status"] in {"True", "False", "Unknown"}
    table = cluster.run("get", "datasets")
    for column in ("TRAIN-HOURS", "SPEAKERS", "READY"):
        assert column in table, table

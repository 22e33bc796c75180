"""Contradictory values stop `helm install` with a message naming the keys; the same values with
the contradiction removed render."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.chart.conftest import Render

pytestmark = pytest.mark.integration

NO_GPU = {"rayService": {"gpuWorkers": {"enabled": False}}}
CPU_SERVE = {"asr": {"numGpus": 0}, "streamAsr": {"numGpus": 0}}

# (id, contradictory values, expected message part, the values made consistent)
CASES: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    (
        "asr-min-above-max",
        {"serve": {"asr": {"minReplicas": 5, "maxReplicas": 2}}},
        "serve.asr.minReplicas (5) is above serve.asr.maxReplicas (2)",
        {"serve": {"asr": {"minReplicas": 2, "maxReplicas": 2}}},
    ),
    (
        "stream-min-above-max",
        {"serve": {"streamAsr": {"minReplicas": 3, "maxReplicas": 1}}},
        "serve.streamAsr.minReplicas (3) is above serve.streamAsr.maxReplicas (1)",
        {"serve": {"streamAsr": {"minReplicas": 1, "maxReplicas": 1}}},
    ),
    (
        "qdrant-without-url",
        {"config": {"vectors": {"backend": "qdrant"}}},
        "config.vectors.backend is qdrant but config.vectors.qdrantUrl is empty",
        {"config": {"vectors": {"backend": "qdrant", "qdrantUrl": "http://qdrant:6333"}}},
    ),
    (
        "qdrant-key-without-qdrant",
        {"secrets": {"qdrantApiKey": {"name": "qdrant"}}},
        "secrets.qdrantApiKey.name is set but config.vectors.backend is not qdrant",
        {
            "secrets": {"qdrantApiKey": {"name": "qdrant"}},
            "config": {"vectors": {"backend": "qdrant", "qdrantUrl": "http://qdrant:6333"}},
        },
    ),
    (
        "nats-without-url",
        {"config": {"bus": {"transport": "nats"}}},
        "config.bus.transport is nats but config.bus.natsUrl is empty",
        {"config": {"bus": {"transport": "nats", "natsUrl": "nats://nats:4222"}}},
    ),
    (
        "no-jwt-key",
        {"secrets": {"jwt": {"publicKey": {"name": ""}}}},
        "no JWT key: set secrets.jwt.publicKey.name or secrets.jwt.jwks.name",
        {"secrets": {"jwt": {"publicKey": {"name": ""}, "jwks": {"name": "jwks"}}}},
    ),
    (
        "no-database",
        {"secrets": {"databaseUrl": {"name": ""}}},
        "secrets.databaseUrl.name is empty",
        {"secrets": {"databaseUrl": {"name": "db"}}},
    ),
    (
        "half-s3-credentials",
        {"secrets": {"s3SecretAccessKey": {"name": ""}}},
        "secrets.s3AccessKeyId.name and secrets.s3SecretAccessKey.name go together",
        {"secrets": {"s3SecretAccessKey": {"name": ""}, "s3AccessKeyId": {"name": ""}}},
    ),
    (
        "asr-gpu-without-gpu-workers",
        NO_GPU,
        "serve.asr.numGpus is 0.5 but rayService.gpuWorkers.enabled is false",
        NO_GPU | {"serve": CPU_SERVE},
    ),
    (
        "stream-gpu-without-gpu-workers",
        NO_GPU | {"serve": {"asr": {"numGpus": 0}}},
        "serve.streamAsr.numGpus is 0.25 but rayService.gpuWorkers.enabled is false",
        NO_GPU | {"serve": CPU_SERVE},
    ),
    (
        "replica-larger-than-gpu-pod",
        {"serve": {"asr": {"numGpus": 2}}},
        "serve.asr.numGpus (2) is above rayService.gpuWorkers.gpusPerPod (1)",
        {"serve": {"asr": {"numGpus": 2}}, "rayService": {"gpuWorkers": {"gpusPerPod": 2}}},
    ),
    (
        "no-worker-group",
        {
            "rayService": {"gpuWorkers": {"enabled": False}, "cpuWorkers": {"enabled": False}},
            "serve": CPU_SERVE,
        },
        "rayService.gpuWorkers and rayService.cpuWorkers are both disabled",
        NO_GPU | {"serve": CPU_SERVE},
    ),
    (
        "worker-min-above-max",
        {"rayService": {"cpuWorkers": {"minReplicas": 3, "maxReplicas": 2, "replicas": 2}}},
        "rayService.cpuWorkers.minReplicas (3) is above rayService.cpuWorkers.maxReplicas (2)",
        {"rayService": {"cpuWorkers": {"minReplicas": 2, "maxReplicas": 2, "replicas": 2}}},
    ),
    (
        "worker-replicas-outside-range",
        {"rayService": {"gpuWorkers": {"replicas": 9}}},
        "rayService.gpuWorkers.replicas (9) is outside [minReplicas, maxReplicas] = [1, 4]",
        {"rayService": {"gpuWorkers": {"replicas": 4}}},
    ),
    (
        "service-without-rayservice",
        {"rayService": {"enabled": False}},
        "service.enabled needs rayService.enabled",
        {"rayService": {"enabled": False}, "service": {"enabled": False}},
    ),
    (
        "ingress-without-service",
        {"ingress": {"enabled": True}, "service": {"enabled": False}},
        "ingress.enabled needs service.enabled",
        {"ingress": {"enabled": True}},
    ),
    (
        "servicemonitor-without-service",
        {"serviceMonitor": {"enabled": True}, "service": {"enabled": False}},
        "serviceMonitor.enabled needs service.enabled",
        {"serviceMonitor": {"enabled": True}},
    ),
    (
        "training-without-secrets",
        {"operator": {"job": {"secretsFromRefs": False}}},
        "training RayJobs would get no Secret, so no database URL",
        {"operator": {"job": {"secretsFromRefs": False, "extraEnvFromSecrets": ["train-env"]}}},
    ),
    (
        "training-secret-key-not-a-variable",
        {"secrets": {"databaseUrl": {"name": "pg", "key": "url"}}},
        'secrets.databaseUrl.key is "url", not AI2TEXT_DATABASE_URL',
        {
            "secrets": {"databaseUrl": {"name": "pg", "key": "url"}},
            "operator": {"job": {"secretsFromRefs": False, "extraEnvFromSecrets": ["train-env"]}},
        },
    ),
    (
        "secret-in-configmap",
        {"config": {"extraEnv": {"AI2TEXT_DATABASE_URL": "postgresql://u:p@db/x"}}},
        "config.extraEnv.AI2TEXT_DATABASE_URL: a secret setting never goes into the ConfigMap",
        {"config": {"extraEnv": {"AI2TEXT_DB_POOL_MAX": "20"}}},
    ),
    (
        "extra-env-overrides-chart",
        {"config": {"extraEnv": {"AI2TEXT_SERVE__HOST": "127.0.0.1"}}},
        "config.extraEnv.AI2TEXT_SERVE__HOST: the chart sets this variable",
        {"config": {"extraEnv": {"AI2TEXT_SERVE__DASHBOARD": "true"}}},
    ),
]


@pytest.mark.parametrize(
    ("values", "message", "consistent"),
    [pytest.param(v, m, c, id=i) for i, v, m, c in CASES],
)
def test_contradiction_fails_with_its_message(
    render: Render, values: dict[str, Any], message: str, consistent: dict[str, Any]
) -> None:
    import helm_python

    with pytest.raises(helm_python.HelmRenderError) as caught:
        render(values)
    assert message in str(caught.value)
    assert render(consistent)


def test_every_fail_in_the_templates_has_a_case(render: Render) -> None:
    """Each `fail` of the templates is raised by one of the cases above."""
    import re

    import helm_python

    from tests.integration.chart.conftest import CHART

    text = "\n".join(p.read_text() for p in sorted((CHART / "templates").iterdir()))
    formats = re.findall(r'fail (?:\(printf )?"((?:[^"\\]|\\.)*)"', text)
    assert len(formats) >= 15, formats
    raised = []
    for _, values, _, _ in CASES:
        with pytest.raises(helm_python.HelmRenderError) as caught:
            render(values)
        raised.append(str(caught.value))
    for fmt in formats:
        pattern = re.sub(r"%[vsqd]", ".+?", re.escape(fmt))
        assert any(re.search(pattern, message) for message in raised), f"untested: {fmt}"

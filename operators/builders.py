"""Pure builders: spec and observed state in, Kubernetes manifests and status fragments out.

Nothing here talks to the API server, the database or the blob store, so every function is
tested on its own; :mod:`operators.handlers` does the I/O. Names of children are deterministic
(a threshold crossing, a scheduled day or a TrainingRun always gives the same name), so creating
a child twice is a conflict the handlers treat as "already done", never a duplicate.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import yaml

from ai2text.config import OperatorSettings
from deployments.serve_config import set_model_version
from operators.spec import API_VERSION, RAY_GROUP, RAY_VERSION, TrainingRunSpec

PART_OF = {"app.kubernetes.io/part-of": "ai2text"}
DATASET_LABEL = "ai2text.io/dataset"
TRAINING_RUN_LABEL = "ai2text.io/training-run"
DATASET_HASH_ANNOTATION = "ai2text.io/dataset-hash"
BASE_VERSION_ANNOTATION = "ai2text.io/base-version"
RUN_NAME_ANNOTATION = "ai2text.io/run-name"
# KubeRay derives RayCluster and pod names from the RayJob's name: keep room for its suffixes
RAYJOB_NAME_MAX = 47
DNS_NAME_MAX = 253


def short_name(base: str, limit: int) -> str:
    """``base`` when it fits in ``limit`` characters, else a prefix and a hash of the whole."""
    if len(base) <= limit:
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:8]
    return f"{base[: limit - 9].rstrip('-.')}-{digest}"


def crossing_run_name(dataset: str, crossing: int) -> str:
    """The TrainingRun of a Dataset's ``crossing``-th threshold crossing."""
    return short_name(f"{dataset}-h{crossing}", DNS_NAME_MAX)


def scheduled_run_name(dataset: str, day: str) -> str:
    """The TrainingRun of a Dataset's scheduled run on ``day`` (ISO date)."""
    return short_name(f"{dataset}-d{day.replace('-', '')}", DNS_NAME_MAX)


def rayjob_name(training_run: str) -> str:
    return short_name(training_run, RAYJOB_NAME_MAX)


def run_name(namespace: str, training_run: str) -> str:
    """The Ray Train run (and ``runs/<name>/`` in the blob store) of a TrainingRun."""
    raw = f"k8s-{namespace}-{training_run}"
    return re.sub(r"[^A-Za-z0-9._=-]", "-", raw)


def owner_reference(body: Mapping[str, Any], *, controller: bool = True) -> dict[str, Any]:
    meta = body["metadata"]
    return {
        "apiVersion": body.get("apiVersion", API_VERSION),
        "kind": body["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def training_run_manifest(
    dataset: Mapping[str, Any], name: str, trigger: str, template: Mapping[str, Any]
) -> dict[str, Any]:
    """A TrainingRun a Dataset asks for: its ``spec.training`` template, its name as the
    dataset reference, the trigger, and the Dataset as owner."""
    spec = {
        **{k: v for k, v in template.items() if k not in {"datasetRef", "trigger"}},
        "datasetRef": {"name": dataset["metadata"]["name"]},
        "trigger": trigger,
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "TrainingRun",
        "metadata": {
            "name": name,
            "namespace": dataset["metadata"]["namespace"],
            "labels": {**PART_OF, DATASET_LABEL: dataset["metadata"]["name"]},
            "ownerReferences": [owner_reference(dataset)],
        },
        "spec": spec,
    }


def train_command(
    spec: TrainingRunSpec, *, run: str, dataset_hash: str, base_version: str | None
) -> list[str]:
    """``ai2text train`` as the RayJob's entrypoint runs it (``training/`` on Ray Train)."""
    t, trainer = spec.training, spec.trainer
    command = [
        "ai2text", "train",
        "--dataset", dataset_hash, "--from-shards",
        "--run-name", run,
        "--preset", spec.model.preset,
        "--max-steps", str(t.max_steps),
        "--batch-seconds", str(t.batch_seconds),
        "--grad-accumulation", str(t.grad_accumulation),
        "--lr", str(t.lr),
        "--warmup-steps", str(min(t.warmup_steps, t.max_steps - 1)),
        "--checkpoint-every", str(max(1, min(1000, t.max_steps))),
        "--precision", spec.precision,
        "--workers", str(trainer.workers),
        "--cpus-per-worker", str(trainer.cpus_per_worker),
        "--gpus-per-worker", str(trainer.gpus_per_worker),
        "--out", f"/tmp/ai2text-runs/{run}",  # noqa: S108 the pod's own scratch space
        "--publish",
    ]  # fmt: skip
    if base_version:
        command += ["--base", base_version]
    return command


def _container(
    name: str,
    image: str,
    resources: dict[str, str],
    settings: OperatorSettings,
    ports: Sequence[tuple[str, int]] = (),
) -> dict[str, Any]:
    env_from = [{"configMapRef": {"name": n}} for n in settings.env_from_configmaps] + [
        {"secretRef": {"name": n}} for n in settings.env_from_secrets
    ]
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if env_from:
        container["envFrom"] = env_from
    if ports:
        container["ports"] = [{"name": n, "containerPort": p} for n, p in ports]
    return container


def _pod_template(
    container: dict[str, Any], settings: OperatorSettings, gpus: int
) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [container], "restartPolicy": "Never"}
    if settings.job_service_account:
        pod["serviceAccountName"] = settings.job_service_account
    if gpus:
        pod["tolerations"] = [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    return {
        "metadata": {"labels": {**PART_OF, "app.kubernetes.io/component": "training"}},
        "spec": pod,
    }


def rayjob_manifest(
    training_run: Mapping[str, Any],
    spec: TrainingRunSpec,
    *,
    dataset_hash: str,
    base_version: str | None,
    settings: OperatorSettings,
) -> dict[str, Any]:
    """The KubeRay ``RayJob`` of a TrainingRun: a head that runs the driver and a worker group of
    ``spec.trainer.workers`` pods with the spec's GPUs, CPUs and memory; the cluster goes away
    when the job finishes."""
    meta = training_run["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    run = run_name(namespace, name)
    trainer = spec.trainer
    image = trainer.image or settings.ray_image
    worker_resources = {"cpu": str(trainer.cpus_per_worker), "memory": trainer.memory_per_worker}
    if trainer.gpus_per_worker:
        worker_resources["nvidia.com/gpu"] = str(trainer.gpus_per_worker)
    head = _container(
        "ray-head",
        image,
        {"cpu": "2", "memory": "8Gi"},
        settings,
        ports=(("gcs", 6379), ("dashboard", 8265), ("client", 10001)),
    )
    worker = _container("ray-worker", image, worker_resources, settings)
    return {
        "apiVersion": f"{RAY_GROUP}/{RAY_VERSION}",
        "kind": "RayJob",
        "metadata": {
            "name": rayjob_name(name),
            "namespace": namespace,
            "labels": {
                **PART_OF,
                "app.kubernetes.io/component": "training",
                TRAINING_RUN_LABEL: name,
            },
            "annotations": {
                DATASET_HASH_ANNOTATION: dataset_hash,
                BASE_VERSION_ANNOTATION: base_version or "",
                RUN_NAME_ANNOTATION: run,
            },
            "ownerReferences": [owner_reference(training_run)],
        },
        "spec": {
            "entrypoint": shlex.join(
                train_command(spec, run=run, dataset_hash=dataset_hash, base_version=base_version)
            ),
            "submissionMode": "K8sJobMode",
            "shutdownAfterJobFinishes": True,
            "ttlSecondsAfterFinished": 3600,
            "activeDeadlineSeconds": trainer.active_deadline_seconds,
            "backoffLimit": 0,
            "rayClusterSpec": {
                "rayVersion": settings.ray_version,
                "headGroupSpec": {
                    # the head runs the driver only: no training worker lands on it
                    "rayStartParams": {"dashboard-host": "0.0.0.0", "num-cpus": "0"},  # noqa: S104 in the pod
                    "template": _pod_template(head, settings, 0),
                },
                "workerGroupSpecs": [
                    {
                        "groupName": "trainers",
                        "replicas": trainer.workers,
                        "minReplicas": trainer.workers,
                        "maxReplicas": trainer.workers,
                        "rayStartParams": {},
                        "template": _pod_template(worker, settings, trainer.gpus_per_worker),
                    }
                ],
            },
        },
    }


def rayjob_outcome(rayjob: Mapping[str, Any]) -> tuple[str, str]:
    """``("running" | "succeeded" | "failed", message)`` from a RayJob's status."""
    status = rayjob.get("status") or {}
    job = str(status.get("jobStatus") or "")
    deployment = str(status.get("jobDeploymentStatus") or "")
    message = str(status.get("message") or "")
    if job == "SUCCEEDED":
        return "succeeded", message or "the training job succeeded"
    if job in {"FAILED", "STOPPED"} or deployment in {"Failed", "ValidationFailed"}:
        return "failed", message or f"the training job ended: {job or deployment}"
    return "running", message or (job or deployment or "submitted")


def serve_config_with_model(serve_config_v2: str, model_version: str) -> str:
    """A RayService's ``spec.serveConfigV2`` (a YAML string) serving ``model_version``."""
    config = yaml.safe_load(serve_config_v2 or "") or {}
    if not isinstance(config, dict):
        raise ValueError("the RayService's serveConfigV2 is not a YAML mapping")
    return yaml.safe_dump(set_model_version(config, model_version), sort_keys=False)


def served_model_version(serve_config_v2: str) -> str | None:
    """The model version the ``asr`` deployment of a serveConfigV2 is told to serve."""
    config = yaml.safe_load(serve_config_v2 or "") or {}
    for app in config.get("applications") or []:
        for deployment in app.get("deployments") or []:
            if deployment.get("name") == "asr":
                value = (deployment.get("user_config") or {}).get("model_version")
                return None if value is None else str(value)
    return None


def timestamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    kind: str,
    status: bool | None,
    reason: str,
    message: str,
    *,
    generation: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """``conditions`` with ``kind`` set; its transition time moves only when its status does."""
    value = "Unknown" if status is None else ("True" if status else "False")
    previous = next((c for c in conditions if c.get("type") == kind), None)
    changed = previous is None or previous.get("status") != value
    condition = {
        "type": kind,
        "status": value,
        "reason": reason,
        "message": message[:1024],
        "observedGeneration": generation,
        "lastTransitionTime": timestamp(now)
        if changed
        else str(previous.get("lastTransitionTime") if previous else timestamp(now)),
    }
    others = [dict(c) for c in conditions if c.get("type") != kind]
    return sorted([*others, condition], key=lambda c: str(c["type"]))

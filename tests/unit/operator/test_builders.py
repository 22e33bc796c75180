"""The operator's pure builders: RayJob and TrainingRun manifests, names, Serve config, status."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from ai2text.cli.main import build_parser
from ai2text.config import OperatorSettings
from deployments.serve_config import load_serve_config
from operators import builders
from operators.spec import SpecError, dataset_spec, training_run_spec
from tests import k8s_schemas

RUN = {
    "apiVersion": "ai2text.io/v1alpha1",
    "kind": "TrainingRun",
    "metadata": {"name": "vi-main-h3", "namespace": "speech", "uid": "u-1", "generation": 1},
}
DATASET = {
    "apiVersion": "ai2text.io/v1alpha1",
    "kind": "Dataset",
    "metadata": {"name": "vi-main", "namespace": "speech", "uid": "d-1"},
}
OPERATOR = OperatorSettings(
    ray_image="registry.example/ai2text-ray:1-gpu",
    env_from_configmaps=("ai2text-config",),
    env_from_secrets=("ai2text-secrets",),
    job_service_account="ai2text-ray",
)


def job(**spec: Any) -> dict[str, Any]:
    parsed = training_run_spec({"datasetRef": {"name": "vi-main"}, **spec})
    return builders.rayjob_manifest(
        RUN, parsed, dataset_hash="0123456789abcdef", base_version="tiny-aaa", settings=OPERATOR
    )


def test_rayjob_carries_the_spec_workers_gpus_precision_and_owner() -> None:
    manifest = job(
        precision="fp16",
        trainer={"workers": 3, "gpusPerWorker": 2, "cpusPerWorker": 6, "memoryPerWorker": "24Gi"},
        training={"maxSteps": 500, "lr": 0.001},
    )
    k8s_schemas.validate(manifest)
    assert k8s_schemas.validate_pod_templates(manifest) == 2
    assert manifest["metadata"]["name"] == "vi-main-h3"
    owner = manifest["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "TrainingRun", "vi-main-h3", "u-1", True,
    )  # fmt: skip
    (group,) = manifest["spec"]["rayClusterSpec"]["workerGroupSpecs"]
    assert group["replicas"] == group["minReplicas"] == group["maxReplicas"] == 3
    pod = group["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.example/ai2text-ray:1-gpu"
    assert container["resources"]["limits"] == {"cpu": "6", "memory": "24Gi", "nvidia.com/gpu": "2"}
    assert container["envFrom"] == [
        {"configMapRef": {"name": "ai2text-config"}},
        {"secretRef": {"name": "ai2text-secrets"}},
    ]
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert pod["serviceAccountName"] == "ai2text-ray"
    head = manifest["spec"]["rayClusterSpec"]["headGroupSpec"]
    assert "nvidia.com/gpu" not in head["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert (
        manifest["metadata"]["annotations"][builders.DATASET_HASH_ANNOTATION] == "0123456789abcdef"
    )


def test_rayjob_entrypoint_is_a_valid_ai2text_train_command() -> None:
    entry = shlex.split(job(precision="bf16", trainer={"workers": 2})["spec"]["entrypoint"])
    assert entry[:2] == ["ai2text", "train"]
    args = build_parser().parse_args(entry[1:])
    assert args.dataset == "0123456789abcdef" and args.from_shards and args.publish
    assert (args.precision, args.workers, args.gpus_per_worker) == ("bf16", 2, 1)
    assert args.base == "tiny-aaa"
    assert args.run_name == "k8s-speech-vi-main-h3"
    assert args.warmup_steps < args.max_steps


def test_cpu_only_rayjob_has_no_gpu_request_or_toleration() -> None:
    manifest = job(trainer={"gpusPerWorker": 0})
    pod = manifest["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]
    assert "nvidia.com/gpu" not in pod["containers"][0]["resources"]["limits"]
    assert "tolerations" not in pod
    assert "--gpus-per-worker 0" in manifest["spec"]["entrypoint"]


def test_training_run_manifest_takes_the_template_and_the_dataset_as_owner() -> None:
    template = {"precision": "fp32", "datasetRef": {"name": "other"}, "trigger": "manual"}
    run = builders.training_run_manifest(DATASET, "vi-main-h2", "threshold", template)
    k8s_schemas.validate(run)
    assert run["spec"] == {
        "precision": "fp32",
        "datasetRef": {"name": "vi-main"},
        "trigger": "threshold",
    }
    assert run["metadata"]["ownerReferences"][0]["uid"] == "d-1"
    assert run["metadata"]["labels"][builders.DATASET_LABEL] == "vi-main"


def test_names_are_deterministic_and_fit() -> None:
    assert builders.crossing_run_name("vi", 4) == "vi-h4"
    assert builders.scheduled_run_name("vi", "2026-11-21") == "vi-d20261121"
    long = "x" * 80
    assert builders.rayjob_name(long) == builders.rayjob_name(long)
    assert len(builders.rayjob_name(long)) <= builders.RAYJOB_NAME_MAX
    assert builders.rayjob_name(long) != builders.rayjob_name(long + "y")
    assert builders.run_name("ns", "a.b") == "k8s-ns-a.b"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ({"jobStatus": "SUCCEEDED"}, "succeeded"),
        ({"jobStatus": "FAILED", "message": "oom"}, "failed"),
        ({"jobStatus": "STOPPED"}, "failed"),
        ({"jobDeploymentStatus": "Failed"}, "failed"),
        ({"jobStatus": "RUNNING", "jobDeploymentStatus": "Running"}, "running"),
        ({}, "running"),
    ],
)
def test_rayjob_outcome(status: dict[str, str], outcome: str) -> None:
    assert builders.rayjob_outcome({"status": status})[0] == outcome


def test_serve_config_gets_the_model_version_in_both_model_deployments() -> None:
    original = yaml.safe_dump(load_serve_config())
    updated = builders.serve_config_with_model(original, "small-123")
    assert builders.served_model_version(original) is None
    assert builders.served_model_version(updated) == "small-123"
    (app,) = yaml.safe_load(updated)["applications"]
    versions = {
        d["name"]: (d.get("user_config") or {}).get("model_version") for d in app["deployments"]
    }
    assert versions == {"asr": "small-123", "stream_asr": "small-123"}
    with pytest.raises(ValueError, match="no asr"):
        builders.serve_config_with_model("applications: []", "v")


def test_condition_transition_time_moves_only_with_its_status() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    first = builders.set_condition([], "Ready", False, "A", "a", generation=1, now=t0)
    same = builders.set_condition(
        first, "Ready", False, "B", "b", generation=2, now=t0 + timedelta(hours=1)
    )
    flipped = builders.set_condition(
        same, "Ready", True, "C", "c", generation=2, now=t0 + timedelta(hours=2)
    )
    assert same[0]["lastTransitionTime"] == first[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert same[0]["reason"] == "B" and same[0]["observedGeneration"] == 2
    assert flipped[0]["lastTransitionTime"] == "2026-01-01T02:00:00Z"
    both = builders.set_condition(flipped, "Promoted", None, "D", "d", generation=2, now=t0)
    assert [(c["type"], c["status"]) for c in both] == [("Promoted", "Unknown"), ("Ready", "True")]


def test_specs_read_the_crd_defaults_and_refuse_what_the_operator_cannot_do() -> None:
    bare = {"apiVersion": "ai2text.io/v1alpha1", "kind": "TrainingRun", "metadata": {"name": "x"},
            "spec": {"datasetRef": {"name": "d"}}}  # fmt: skip
    defaulted = k8s_schemas.with_defaults(bare)["spec"]
    assert training_run_spec(defaulted) == training_run_spec(bare["spec"])
    dataset = {
        "apiVersion": "ai2text.io/v1alpha1",
        "kind": "Dataset",
        "metadata": {"name": "d"},
        "spec": {},
    }
    assert dataset_spec(k8s_schemas.with_defaults(dataset)["spec"]) == dataset_spec({})
    with pytest.raises(SpecError, match="precision"):
        training_run_spec({"datasetRef": {"name": "d"}, "precision": "int8"})
    with pytest.raises(SpecError, match="datasetRef"):
        training_run_spec({})
    with pytest.raises(SpecError, match="hoursThreshold"):
        dataset_spec({"hoursThreshold": 0})

"""The operator really running under kopf (``ai2text operator run``, a separate process) against
kmock's Kubernetes API emulator over HTTP, with the real metadata database and blob store.

Nothing trains here: a test marks the RayJob succeeded after putting the model such a job
publishes (a real tiny checkpoint, trained by the ``trained_tiny`` fixture) where the job would,
and the operator scores it on real test-speaker audio, gates it and updates serving."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ai2text.asr.model import load_model
from ai2text.audio.wav import read_wav
from ai2text.config import Settings
from ai2text.data.manifest import ManifestRow
from ai2text.eval.evaluate import evaluate_model
from ai2text.registry.registry import ModelRegistry
from ai2text.store.blobs import audio_raw_key
from ai2text.store.database import Database
from ai2text.store.metadata import AudioRecord, insert_audio
from deployments.serve_config import load_serve_config
from operators.builders import served_model_version
from tests.conftest import REPO
from tests.integration.conftest import TrainedModel
from tests.integration.data.test_builder import speakers_per_split
from tests.integration.operator.cluster import (
    RESOURCES,
    Cluster,
    OperatorProcess,
    write_kubeconfig,
)
from tests.integration.operator.emulator import EmulatorThread

pytestmark = pytest.mark.integration
SAMPLES = REPO / "manifests" / "samples"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with EmulatorThread(RESOURCES) as emulator:
        kube = Cluster(emulator, write_kubeconfig(emulator.url, tmp_path / "kubeconfig"))
        kube.apply(
            {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": "ai2text"}}
        )
        serving = {"applications": load_serve_config()["applications"]}
        kube.apply(
            {
                "apiVersion": "ray.io/v1",
                "kind": "RayService",
                "metadata": {"name": "ai2text"},
                "spec": {"serveConfigV2": yaml.safe_dump(serving)},
            }
        )
        yield kube


@pytest.fixture
def operator(cluster: Cluster, settings: Settings, tmp_path: Path) -> Iterator[OperatorProcess]:
    (tmp_path / "logs").mkdir()
    process = OperatorProcess(cluster, settings, tmp_path / "logs")
    yield process
    process.stop()
    print(process.logs()[-20000:])  # shown when the test fails


def sample(name: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = yaml.safe_load((SAMPLES / name).read_text())
    body["spec"].update(spec)
    return body


def add_recordings(
    db: Database, settings: Settings, model: TrainedModel, split: str, picks: list[int]
) -> float:
    """Store clips of the tiny model's corpus as verified recordings of ``split``'s speaker;
    returns their hours."""
    from ai2text.store.blobs import LocalBlobStore

    blobs = LocalBlobStore(settings.blob_dir)
    speaker = speakers_per_split(1)[split][0]
    seconds = 0.0
    with db.connection() as conn:
        for i in picks:
            row = model.rows[i]
            samples, rate = read_wav(Path(str(row["audio_filepath"])))
            data = Path(str(row["audio_filepath"])).read_bytes()
            duration = samples.size / rate
            stored = insert_audio(
                conn,
                AudioRecord(
                    sha256=hashlib.sha256(data).hexdigest(), source="upload",
                    duration_s=duration, sample_rate=rate, speaker_id=speaker,
                ),
                actor="test",
            )  # fmt: skip
            assert stored.split == split
            blobs.put_bytes(audio_raw_key(stored.audio_id), data)
            conn.execute(
                "UPDATE audio SET blob_key = %s WHERE id = %s",
                (audio_raw_key(stored.audio_id), stored.audio_id),
            )
            conn.execute(
                "INSERT INTO transcripts (audio_id, model_version, status, text, verified)"
                " VALUES (%s, 'human', 'done', %s, true)",
                (stored.audio_id, str(row["text"])),
            )
            seconds += duration
    return seconds / 3600


def status_of(cluster: Cluster, kind: str, name: str) -> dict[str, Any]:
    found = cluster.get(kind, name)
    return dict((found or {}).get("status") or {})


def phase(cluster: Cluster, name: str) -> str:
    return str(status_of(cluster, "TrainingRun", name).get("phase") or "")


def test_dataset_crossing_rayjob_evaluation_promotion_and_cleanup(
    cluster: Cluster,
    operator: OperatorProcess,
    settings: Settings,
    db: Database,
    trained_tiny: TrainedModel,
) -> None:
    add_recordings(db, settings, trained_tiny, "test", [0, 1, 2, 3])
    add_recordings(db, settings, trained_tiny, "val", [4])
    train_clips = [5, 6, 7]
    train_hours = sum(
        read_wav(Path(str(trained_tiny.rows[i]["audio_filepath"])))[0].size / 16000 / 3600
        for i in train_clips
    )
    dataset = sample("dataset.yaml", hoursThreshold=0.9 * train_hours, refreshSeconds=1)
    dataset["metadata"]["name"] = "vi"
    del dataset["spec"]["schedule"]
    dataset["spec"]["training"]["promotion"] = {"werCeiling": 0.95}
    cluster.apply(dataset)
    operator.start()

    # the status fills from the database; no training data yet: not ready, no run
    first = cluster.wait(
        "the Dataset's status",
        lambda: (s := status_of(cluster, "Dataset", "vi")).get("datasetHash") and s,
    )
    assert first["utterances"] == {"train": 0, "val": 1, "test": 4}
    assert first["speakers"] == {"train": 0, "val": 1, "test": 1}
    assert first["totalSpeakers"] == 2 and first["crossings"] == 0
    assert [c["status"] for c in first["conditions"] if c["type"] == "Ready"] == ["False"]
    assert set(first["manifests"]) == {"train", "val", "test"}
    assert first["observedGeneration"] == 1
    time.sleep(3)
    assert cluster.list("TrainingRun") == []

    # crossing the threshold gives exactly one TrainingRun, owned by the Dataset
    add_recordings(db, settings, trained_tiny, "train", train_clips)
    run = cluster.wait("a TrainingRun", lambda: cluster.list("TrainingRun"))
    time.sleep(4)  # more refreshes: still one
    runs = cluster.list("TrainingRun")
    assert [r["metadata"]["name"] for r in runs] == ["vi-h1"]
    (run,) = runs
    owner = run["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("Dataset", "vi")
    assert owner["uid"] == cluster.get("Dataset", "vi")["metadata"]["uid"]  # type: ignore[index]
    assert run["spec"]["trigger"] == "threshold"
    ready = status_of(cluster, "Dataset", "vi")
    assert ready["crossings"] == 1 and ready["lastTrainingRun"] == "vi-h1"
    assert [c["status"] for c in ready["conditions"] if c["type"] == "Ready"] == ["True"]
    digest = ready["datasetHash"]

    # the TrainingRun creates a RayJob with the spec's workers, GPUs and precision
    job = cluster.wait("the RayJob", lambda: cluster.get("RayJob", "vi-h1"))
    spec = job["spec"]
    entry = spec["entrypoint"]
    assert f"--dataset {digest} --from-shards" in entry
    assert "--precision bf16" in entry and "--workers 2" in entry and "--publish" in entry
    assert "--base" not in entry  # no production model yet: start from the preset
    (workers,) = spec["rayClusterSpec"]["workerGroupSpecs"]
    assert workers["replicas"] == 2
    container = workers["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["envFrom"] == [
        {"configMapRef": {"name": "ai2text-config"}},
        {"secretRef": {"name": "ai2text-database"}},
        {"secretRef": {"name": "ai2text-s3"}},
    ]
    assert job["metadata"]["ownerReferences"][0]["uid"] == run["metadata"]["uid"]
    training = cluster.wait("phase Training", lambda: phase(cluster, "vi-h1") == "Training")
    assert training
    assert status_of(cluster, "TrainingRun", "vi-h1")["rayJobName"] == "vi-h1"

    # the job publishes its model; the test marks the RayJob succeeded
    registry = ModelRegistry.from_settings(db, settings)
    registry.blobs.put_file("runs/k8s-default-vi-h1/model.nemo", trained_tiny.path)
    cluster.patch(
        "RayJob", "vi-h1", {"status": {"jobStatus": "SUCCEEDED", "jobDeploymentStatus": "Complete"}}
    )
    cluster.wait("phase Succeeded", lambda: phase(cluster, "vi-h1") in {"Succeeded", "Failed"}, 240)
    done = status_of(cluster, "TrainingRun", "vi-h1")
    assert done["phase"] == "Succeeded", done

    # the WER in the status is the checkpoint's own on the test speakers' real audio
    test_rows = [
        ManifestRow(str(r["audio_filepath"]), str(r["text"]), float(r["duration"]))
        for r in (trained_tiny.rows[i] for i in range(4))
    ]
    expected = evaluate_model(load_model(trained_tiny.path), test_rows)
    assert done["metrics"]["utterances"] == 4
    assert done["metrics"]["wer"] == pytest.approx(expected.wer, abs=1e-4)
    version = done["modelVersion"]
    production = registry.production()
    assert done["promoted"] is (expected.wer < 0.95)
    assert done["promoted"], f"the tiny model's WER {expected.wer} should pass the 0.95 ceiling"
    assert production is not None and production.version == version
    assert production.dataset_hash == digest
    service = cluster.get("RayService", "ai2text")
    assert service is not None
    assert served_model_version(service["spec"]["serveConfigV2"]) == version
    # kopf posts events from a queue of its own: they may trail the status by a moment
    steps = ("RayJobCreated", "Trained", "Promoted", "Succeeded", "ServingUpdated")
    cluster.wait("the run's events", lambda: set(steps) <= set(cluster.events("vi-h1")), 30)
    kinds = {c["type"]: c["status"] for c in done["conditions"]}
    assert kinds == {"Succeeded": "True", "Promoted": "True", "ServingUpdated": "True"}

    # deleting the run cleans its run files and RayJob, never the registered model's file
    assert list(registry.blobs.list("runs/k8s-default-vi-h1/"))
    cluster.delete("TrainingRun", "vi-h1")
    cluster.wait("the TrainingRun to go", lambda: cluster.get("TrainingRun", "vi-h1") is None)
    assert list(registry.blobs.list("runs/k8s-default-vi-h1/")) == []
    assert cluster.get("RayJob", "vi-h1") is None
    assert registry.blobs.exists(f"models/{version}/model.nemo")

    # deleting the Dataset removes the builds no model was trained on, keeps the one that was
    builds = set(status_of(cluster, "Dataset", "vi")["builtHashes"])
    assert digest in builds and len(builds) >= 2
    cluster.delete("Dataset", "vi")
    cluster.wait("the Dataset to go", lambda: cluster.get("Dataset", "vi") is None)
    for built in builds:
        left = list(registry.blobs.list(f"datasets/{built}/"))
        assert bool(left) is (built == digest), (built, left)


def test_killed_operator_leaves_no_duplicates_and_converges(
    cluster: Cluster,
    operator: OperatorProcess,
    settings: Settings,
    db: Database,
    trained_tiny: TrainedModel,
) -> None:
    for split, picks in (("test", [0, 1]), ("val", [2]), ("train", [3, 4])):
        add_recordings(db, settings, trained_tiny, split, picks)
    emulator = cluster.emulator.emulator
    assert emulator is not None
    # the samples as they are: a Dataset (10 h threshold: not crossed) and a manual run on it
    cluster.apply(sample("trainingrun.yaml"))
    cluster.apply(sample("dataset.yaml"))

    # killed after the RayJob is stored, before the operator hears back or records it
    emulator.stall_creates["rayjobs"] = 5.0
    operator.start()
    cluster.wait("the RayJob create", lambda: ("rayjobs", "vi-main-manual-1") in emulator.created)
    operator.kill()
    assert phase(cluster, "vi-main-manual-1") != "Training"
    emulator.stall_creates.clear()
    operator.start()
    cluster.wait("phase Training", lambda: phase(cluster, "vi-main-manual-1") == "Training")
    assert [j["metadata"]["name"] for j in cluster.list("RayJob")] == ["vi-main-manual-1"]
    assert emulator.created.count(("rayjobs", "vi-main-manual-1")) == 1

    # a crossing while the manual run is active is deferred (never two runs at once) ...
    hours = status_of(cluster, "Dataset", "vi-main")["hours"]["train"]
    cluster.patch("Dataset", "vi-main", {"spec": {"hoursThreshold": hours / 2.5}})
    cluster.wait(
        "the new generation observed",
        lambda: status_of(cluster, "Dataset", "vi-main").get("observedGeneration") == 2,
    )
    time.sleep(3)
    assert len(cluster.list("TrainingRun")) == 1
    cluster.wait("the deferral event", lambda: "TrainingDeferred" in cluster.events("vi-main"), 30)

    # ... and taken once it ends; killed between storing the TrainingRun and recording it
    emulator.stall_creates["trainingruns"] = 5.0
    cluster.patch(
        "RayJob", "vi-main-manual-1", {"status": {"jobStatus": "FAILED", "message": "node lost"}}
    )
    cluster.wait("the crossing's run", lambda: ("trainingruns", "vi-main-h2") in emulator.created)
    operator.kill()
    emulator.stall_creates.clear()
    assert status_of(cluster, "Dataset", "vi-main").get("crossings") == 0
    operator.start()
    cluster.wait(
        "the crossing recorded",
        lambda: status_of(cluster, "Dataset", "vi-main").get("crossings") == 2,
    )
    # the loop's rule: a failed run's dataset is not retried without new data
    cluster.wait("the run decided", lambda: phase(cluster, "vi-main-h2") == "Skipped")
    skipped = status_of(cluster, "TrainingRun", "vi-main-h2")
    assert "is what the last run trained on" in skipped["reason"]
    names = sorted(r["metadata"]["name"] for r in cluster.list("TrainingRun"))
    assert names == ["vi-main-h2", "vi-main-manual-1"]
    assert emulator.created.count(("trainingruns", "vi-main-h2")) == 1
    failed = status_of(cluster, "TrainingRun", "vi-main-manual-1")
    assert failed["phase"] == "Failed" and "node lost" in failed["reason"]
    assert [j["metadata"]["name"] for j in cluster.list("RayJob")] == ["vi-main-manual-1"]
    assert status_of(cluster, "Dataset", "vi-main").get("deferred") is None


def test_peering_keeps_one_operator_active_and_bad_specs_fail_for_good(
    cluster: Cluster,
    settings: Settings,
    db: Database,
    trained_tiny: TrainedModel,
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    standby = OperatorProcess(cluster, settings, tmp_path / "b")  # priority 1
    active = OperatorProcess(cluster, settings, tmp_path / "a")
    active.starts = 9  # priority 10
    active.start()
    standby.start()
    try:
        # each resource's watch-stream pauses on its own: a run applied before the
        # trainingruns stream paused would reach the standby too
        for plural in ("datasets", "trainingruns"):
            paused = f"Pausing the watch-stream for {plural}."
            cluster.wait(f"the standby's {plural}", lambda p=paused: p in standby.logs(), 60)
        # the emulator, unlike an API server, does not validate against the CRD schema: the
        # operator's own check makes such a spec a permanent failure, not endless retries
        bad = sample("trainingrun.yaml", precision="int8")
        bad["metadata"]["name"] = "bad-precision"
        cluster.apply(bad)
        cluster.wait("the bad run failed", lambda: phase(cluster, "bad-precision") == "Failed")
        failed = status_of(cluster, "TrainingRun", "bad-precision")
        assert failed["conditions"][0]["reason"] == "InvalidSpec"
        assert "precision" in failed["reason"]
        cluster.wait("its event", lambda: "Failed" in cluster.events("bad-precision"), 30)
        time.sleep(2)
        handled = [log for log in (active.logs(), standby.logs()) if "bad-precision" in log]
        assert len(handled) == 1 and "bad-precision" in active.logs(), "only the active one acts"

        # a job that reports success but published nothing, or a file that is no model: the run
        # fails with the reason instead of retrying forever
        for split, picks in (("test", [0]), ("val", [1]), ("train", [2])):
            add_recordings(db, settings, trained_tiny, split, picks)
        cluster.apply(sample("dataset.yaml", refreshSeconds=1))
        cluster.wait(
            "the build", lambda: status_of(cluster, "Dataset", "vi-main").get("datasetHash")
        )
        registry = ModelRegistry.from_settings(db, settings)
        registry.blobs.put_bytes("runs/k8s-default-not-a-model/model.nemo", b"not a model")
        for name, reason in (("no-model", "NoModel"), ("not-a-model", "EvaluationFailed")):
            run = sample("trainingrun.yaml")
            run["metadata"]["name"] = name
            cluster.apply(run)
            cluster.wait(f"{name}'s RayJob", lambda n=name: cluster.get("RayJob", n))
            cluster.patch("RayJob", name, {"status": {"jobStatus": "SUCCEEDED"}})
            cluster.wait(f"{name} failed", lambda n=name: phase(cluster, n) == "Failed")
            failed = status_of(cluster, "TrainingRun", name)
            assert [c["reason"] for c in failed["conditions"]] == [reason], failed
        assert registry.production() is None
    finally:
        standby.stop()
        active.stop()

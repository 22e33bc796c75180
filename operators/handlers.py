"""The kopf handlers: the I/O around :mod:`operators.reconcile` and :mod:`operators.builders`.

Datasets: a timer refreshes the status from the metadata database (building the manifests with
the dataset builder, once per content hash) and creates the TrainingRun a threshold crossing or
the schedule asks for. TrainingRuns: a timer walks Pending -> Training (a KubeRay RayJob) ->
Evaluating (the published model is registered and scored on the held-out test speakers, and the
promotion gate decides) -> Succeeded, Failed or Skipped; on promotion the serving RayService's
Serve config gets the new model version. Every step is idempotent and keyed by deterministic
names, so an operator killed at any line and restarted converges without duplicates. Deleting a
resource runs its finalizer: a Dataset's built manifests and shards, a TrainingRun's RayJob and
run files, never a model version's files (the registry keeps its own copy under ``models/``).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kopf

from ai2text.bus.bus import EventBus
from ai2text.config import Settings
from ai2text.errors import Ai2TextError, InputError, NotFoundError
from ai2text.registry.registry import ModelRegistry
from ai2text.store.blobs import BlobStore, run_key
from ai2text.store.database import Database
from operators import builders, reconcile
from operators.kube import Kube
from operators.spec import (
    DATASETS,
    GROUP,
    RAY_GROUP,
    RAY_VERSION,
    TRAINING_RUNS,
    VERSION,
    SpecError,
    TrainingRunSpec,
    dataset_spec,
    training_run_spec,
)

log = logging.getLogger(__name__)
FINALIZER = "ai2text.io/cleanup"
DATASET_TICK_S = 2.0


@dataclass
class Runtime:
    settings: Settings
    db: Database
    registry: ModelRegistry
    blobs: BlobStore
    bus: EventBus
    kube: Kube
    stack: contextlib.ExitStack

    @property
    def actor(self) -> str:
        return "system:operator"


_RUNTIME: list[Runtime] = []


def runtime() -> Runtime:
    if not _RUNTIME:
        raise kopf.TemporaryError("the operator is still starting", delay=2.0)
    return _RUNTIME[0]


def _now() -> datetime:
    return datetime.now(UTC)


def _platform_errors(exc: Exception) -> Exception:
    """Bad input the platform refuses is permanent; anything else (database, storage) is not."""
    if isinstance(exc, InputError | NotFoundError):
        return kopf.PermanentError(str(exc))
    return kopf.TemporaryError(f"{type(exc).__name__}: {exc}", delay=10.0)


# ---------------------------------------------------------------- set-up


def register(registry: kopf.OperatorRegistry, config: Settings) -> None:
    """Attach the handlers to ``registry`` (the TrainingRun poll interval comes from settings)."""

    def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=GROUP, key="last-handled-configuration"
        )
        settings.persistence.finalizer = FINALIZER
        settings.scanning.disabled = True  # the namespace is given; no cluster-wide listing
        settings.execution.max_workers = 4
        _RUNTIME.append(_open_runtime(config))

    kopf.on.startup(registry=registry)(startup)
    # in-cluster service account, or KUBECONFIG (through the kubernetes client)
    kopf.on.login(registry=registry)(kopf.login_via_client)
    kopf.on.cleanup(registry=registry)(_cleanup)
    kopf.timer(GROUP, VERSION, DATASETS, interval=DATASET_TICK_S, registry=registry)(dataset_tick)
    kopf.on.delete(GROUP, VERSION, DATASETS, registry=registry)(dataset_deleted)
    kopf.timer(GROUP, VERSION, TRAINING_RUNS, interval=config.operator.poll_s, registry=registry)(
        training_run_tick
    )
    kopf.on.delete(GROUP, VERSION, TRAINING_RUNS, registry=registry)(training_run_deleted)


def _open_runtime(config: Settings) -> Runtime:
    from ai2text.bus.bus import open_bus
    from ai2text.store.database import open_database

    stack = contextlib.ExitStack()
    db = stack.enter_context(open_database(config))
    registry = ModelRegistry.from_settings(db, config)
    return Runtime(config, db, registry, registry.blobs, open_bus(config, db), Kube(), stack)


def _delete_under(blobs: BlobStore, prefix: str) -> int:
    """Remove every blob under ``prefix``; how many there were."""
    keys = list(blobs.list(prefix))
    for key in keys:
        blobs.delete(key)
    return len(keys)


def _cleanup(**_: Any) -> None:
    while _RUNTIME:
        _RUNTIME.pop().stack.close()


# ---------------------------------------------------------------- Dataset


def _owned_runs(rt: Runtime, namespace: str, dataset: str) -> dict[str, Mapping[str, Any]]:
    """Status of every TrainingRun on ``dataset``: the ones it created and the ones made by hand
    (all of them count for "never two runs at once")."""
    runs = rt.kube.list(GROUP, VERSION, namespace, TRAINING_RUNS)
    return {
        r["metadata"]["name"]: r.get("status") or {}
        for r in runs
        if ((r.get("spec") or {}).get("datasetRef") or {}).get("name") == dataset
    }


def dataset_tick(
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    patch: kopf.Patch,
    **_: Any,
) -> None:
    from ai2text.data.builder import build

    rt = runtime()
    now = _now()
    generation = int(meta.get("generation") or 0)
    conditions = list(status.get("conditions") or [])
    try:
        ds = dataset_spec(spec)
    except SpecError as exc:
        if status.get("observedGeneration") != generation:
            kopf.warn(body, reason="InvalidSpec", message=str(exc))
        patch.status["observedGeneration"] = generation
        patch.status["conditions"] = builders.set_condition(
            conditions, "Ready", False, "InvalidSpec", str(exc), generation=generation, now=now
        )
        return
    last = status.get("lastRefresh")
    fresh = status.get("observedGeneration") == generation and last is not None
    if fresh and now < _parse_time(str(last)) + timedelta(seconds=ds.refresh_seconds):
        return
    try:
        report = build(rt.db, rt.blobs, ds.selection.policy())
    except Ai2TextError as exc:
        raise _platform_errors(exc) from exc
    sizes = {split: s.utterances for split, s in report.splits.items()}
    hours = {split: round(s.hours, 4) for split, s in report.splits.items()}
    namespace, name = meta["namespace"], meta["name"]
    seen = reconcile.DatasetObservation(
        hours, sizes, report.dataset_hash, _owned_runs(rt, namespace, name)
    )
    plan = reconcile.plan_dataset(name, ds, status, seen, now)
    if plan.request is not None:
        manifest = builders.training_run_manifest(
            body, plan.request.name, plan.request.trigger, ds.training
        )
        _, created = rt.kube.create(GROUP, VERSION, namespace, TRAINING_RUNS, manifest)
        if created:
            kopf.info(
                body,
                reason="TrainingRunCreated",
                message=f"{plan.request.name}: {plan.request.reason}",
            )
        patch.status["lastTrainingRun"] = plan.request.name
    if plan.deferred and not status.get("deferred"):
        kopf.info(body, reason="TrainingDeferred", message=plan.decision.reason)
    patch.status["deferred"] = plan.decision.reason if plan.deferred else None
    ready = reconcile.ready(report.dataset_hash, sizes)
    built = list(status.get("builtHashes") or [])
    if report.dataset_hash not in built:
        built.append(report.dataset_hash)
        kopf.info(body, reason="Built", message=f"dataset {report.dataset_hash}: {hours} h")
    patch.status.update(
        {
            "observedGeneration": generation,
            "datasetHash": report.dataset_hash,
            "hours": hours,
            "utterances": sizes,
            "speakers": {split: s.speakers for split, s in report.splits.items()},
            "totalHours": round(sum(hours.values()), 4),
            "totalSpeakers": sum(s.speakers for s in report.splits.values()),
            "manifests": {split: rt.blobs.uri(key) for split, key in report.manifests.items()},
            "builtHashes": built,
            "crossings": plan.crossings,
            "lastRefresh": builders.timestamp(now),
            "conditions": builders.set_condition(
                conditions,
                "Ready",
                ready.go,
                "Built" if ready.go else "SplitsIncomplete",
                ready.reason,
                generation=generation,
                now=now,
            ),
        }
    )
    if plan.scheduled_day is not None:
        patch.status["lastScheduled"] = plan.scheduled_day


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def dataset_deleted(body: kopf.Body, status: kopf.Status, meta: kopf.Meta, **_: Any) -> None:
    """Remove the manifests and shards only this Dataset built: not a hash another Dataset
    built, a model version was trained on, or a TrainingRun still uses."""
    rt = runtime()
    namespace, name = meta["namespace"], meta["name"]
    keep: set[str] = set()
    for other in rt.kube.list(GROUP, VERSION, namespace, DATASETS):
        if other["metadata"]["name"] != name:
            keep.update((other.get("status") or {}).get("builtHashes") or [])
    for run in rt.kube.list(GROUP, VERSION, namespace, TRAINING_RUNS):
        run_status = run.get("status") or {}
        if run_status.get("phase") not in reconcile.TERMINAL_PHASES:
            keep.add(str(run_status.get("datasetHash") or ""))
    with rt.db.connection() as conn:
        rows = conn.execute(
            "SELECT DISTINCT dataset_hash FROM model_versions WHERE dataset_hash IS NOT NULL"
        ).fetchall()
    keep.update(str(r[0]) for r in rows)
    removed = sum(
        _delete_under(rt.blobs, f"datasets/{digest}/")
        for digest in status.get("builtHashes") or []
        if digest not in keep
    )
    kopf.info(body, reason="Cleaned", message=f"removed {removed} dataset files")


# ---------------------------------------------------------------- TrainingRun


def training_run_tick(
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    patch: kopf.Patch,
    **_: Any,
) -> None:
    rt = runtime()
    step = _RunStep(rt, body, dict(status), int(meta.get("generation") or 0))
    try:
        step.advance(spec)
    finally:
        if step.changes:
            patch.status.update({**step.changes, "observedGeneration": step.generation})


class _RunStep:
    """One tick of a TrainingRun: as many phases forward as the observed state allows."""

    def __init__(self, rt: Runtime, body: kopf.Body, status: dict[str, Any], generation: int):
        self.rt, self.body, self.status, self.generation = rt, body, status, generation
        self.meta = body["metadata"]
        self.changes: dict[str, Any] = {}

    def set(self, **fields: Any) -> None:
        self.changes.update(fields)
        self.status.update(fields)

    def condition(self, kind: str, value: bool | None, reason: str, message: str) -> None:
        self.set(
            conditions=builders.set_condition(
                self.status.get("conditions") or [],
                kind,
                value,
                reason,
                message,
                generation=self.generation,
                now=_now(),
            )
        )

    def finish(self, phase: str, reason: str, message: str) -> None:
        ok = phase == "Succeeded"
        self.set(phase=phase, reason=message, completionTime=builders.timestamp(_now()))
        self.condition("Succeeded", ok, reason, message)
        (kopf.info if ok or phase == "Skipped" else kopf.warn)(
            self.body, reason=phase, message=message
        )

    def advance(self, spec: Mapping[str, Any]) -> None:
        phase = self.status.get("phase") or "Pending"
        if phase in reconcile.TERMINAL_PHASES:
            if self.status.get("promoted"):
                self.update_serving()
            return
        try:
            run_spec = training_run_spec(spec)
        except SpecError as exc:
            self.finish("Failed", "InvalidSpec", str(exc))
            return
        if phase == "Pending":
            phase = self.start(run_spec)
        if phase == "Training":
            phase = self.follow()
        if phase == "Evaluating":
            self.evaluate(run_spec)

    # Pending -> Training | Skipped | Failed
    def start(self, spec: TrainingRunSpec) -> str:
        namespace = self.meta["namespace"]
        job_name = builders.rayjob_name(self.meta["name"])
        existing = self.rt.kube.get(RAY_GROUP, RAY_VERSION, namespace, "rayjobs", job_name)
        if existing is not None:  # created before a restart could record it
            notes = existing["metadata"].get("annotations") or {}
            return self.training(
                job_name,
                notes.get(builders.DATASET_HASH_ANNOTATION, ""),
                notes.get(builders.BASE_VERSION_ANNOTATION) or None,
            )
        dataset = self.rt.kube.get(GROUP, VERSION, namespace, DATASETS, spec.dataset_ref.name)
        dataset_status = (dataset or {}).get("status") or {}
        digest = dataset_status.get("datasetHash")
        if not digest:
            self.set(phase="Pending")
            self.condition(
                "Succeeded", None, "WaitingForDataset",
                f"Dataset {spec.dataset_ref.name} has not been built yet",
            )  # fmt: skip
            return "Pending"
        owned = _owned_runs(self.rt, namespace, spec.dataset_ref.name)
        owned.pop(self.meta["name"], None)
        decision = reconcile.should_train(
            spec.trigger,
            digest,
            reconcile.last_trained(owned),
            dataset_status.get("utterances") or {},
        )
        if not decision.go:
            self.set(datasetHash=digest)
            self.finish("Skipped", "NothingToTrain", decision.reason)
            return "Skipped"
        production = self.rt.registry.production()
        base = reconcile.base_version(
            spec.model.base_version, production.version if production else None
        )
        if base is not None and self.rt.registry.find(base) is None:
            self.finish("Failed", "UnknownBaseVersion", f"no model version {base} in the registry")
            return "Failed"
        manifest = builders.rayjob_manifest(
            self.body,
            spec,
            dataset_hash=digest,
            base_version=base,
            settings=self.rt.settings.operator,
        )
        _, created = self.rt.kube.create(RAY_GROUP, RAY_VERSION, namespace, "rayjobs", manifest)
        if created:
            kopf.info(
                self.body, reason="RayJobCreated", message=f"RayJob {job_name} on dataset {digest}"
            )
        return self.training(job_name, digest, base)

    def training(self, job_name: str, digest: str, base: str | None) -> str:
        self.set(
            phase="Training",
            rayJobName=job_name,
            datasetHash=digest,
            baseVersion=base or "",
            startTime=self.status.get("startTime") or builders.timestamp(_now()),
        )
        self.condition("Succeeded", None, "Training", f"RayJob {job_name} is running")
        return "Training"

    # Training -> Evaluating | Failed
    def follow(self) -> str:
        job_name = self.status["rayJobName"]
        job = self.rt.kube.get(RAY_GROUP, RAY_VERSION, self.meta["namespace"], "rayjobs", job_name)
        if job is None:
            self.finish("Failed", "RayJobGone", f"RayJob {job_name} was deleted before it finished")
            return "Failed"
        outcome, message = builders.rayjob_outcome(job)
        if outcome == "failed":
            self.finish("Failed", "TrainingFailed", message)
            return "Failed"
        if outcome == "running":
            return "Training"
        self.set(phase="Evaluating")
        self.condition("Succeeded", None, "Evaluating", "scoring the model on the test speakers")
        kopf.info(self.body, reason="Trained", message=message)
        return "Evaluating"

    # Evaluating -> Succeeded | Failed
    def evaluate(self, spec: TrainingRunSpec) -> None:
        from ai2text.data.builder import local_rows
        from ai2text.registry.promotion import run_gate

        rt = self.rt
        run = builders.run_name(self.meta["namespace"], self.meta["name"])
        key = run_key(run, "model.nemo")  # where ``ai2text train --publish`` puts it
        digest = self.status["datasetHash"]
        if not rt.blobs.exists(key):
            self.finish("Failed", "NoModel", f"the job succeeded but published nothing at {key}")
            return
        try:
            with tempfile.TemporaryDirectory(prefix="ai2text-eval-") as scratch:
                path = Path(scratch) / "model.nemo"
                rt.blobs.download(key, path)
                candidate = rt.registry.register(
                    path,
                    actor=rt.actor,
                    parent_version=self.status.get("baseVersion") or None,
                    training_run_id=self._run_id(run),
                    dataset_hash=digest,
                )
            cache = rt.settings.home / "cache" / "datasets"
            test_rows = local_rows(rt.blobs, digest, "test", cache)
            if (
                candidate.status in {"production", "rejected", "retired"}
                and "gate" in candidate.metrics
            ):
                gate = candidate.metrics["gate"]  # decided before a restart
                promoted = candidate.status != "rejected" and bool(gate.get("promote"))
                scores, reason = gate, str(gate.get("reason", ""))
            elif spec.promotion.policy == "never":
                from ai2text.asr.model import load_model
                from ai2text.eval.evaluate import evaluate_model

                score = evaluate_model(load_model(rt.registry.fetch(candidate.version)), test_rows)
                scores = {"candidate": score.to_json(), "production": None}
                promoted, reason = False, "promotion policy is never: registered and scored only"
            else:
                decision = run_gate(
                    rt.registry, candidate.version, test_rows, spec.promotion.gate(),
                    actor=rt.actor, bus=rt.bus,
                )  # fmt: skip
                scores, promoted, reason = decision.to_json(), decision.promote, decision.reason
        except (InputError, NotFoundError) as exc:  # a model or dataset that cannot be scored
            self.finish("Failed", "EvaluationFailed", f"{type(exc).__name__}: {exc}")
            return
        except Ai2TextError as exc:
            raise _platform_errors(exc) from exc
        metrics = {
            "wer": scores["candidate"]["wer"],
            "cer": scores["candidate"]["cer"],
            "utterances": scores["candidate"]["utterances"],
        }
        if scores.get("production"):
            metrics["productionWer"] = scores["production"]["wer"]
            metrics["productionCer"] = scores["production"]["cer"]
        self.set(metrics=metrics, modelVersion=candidate.version, promoted=promoted)
        self.condition("Promoted", promoted, "GatePassed" if promoted else "GateRefused", reason)
        kopf.info(
            self.body,
            reason="Promoted" if promoted else "NotPromoted",
            message=f"{candidate.version}: {reason}",
        )
        self.finish("Succeeded", "Evaluated", f"{candidate.version}: WER {metrics['wer']:.4f}")
        if promoted:
            self.update_serving()

    def _run_id(self, run: str) -> str | None:
        with self.rt.db.connection() as conn:
            row = conn.execute("SELECT id FROM training_runs WHERE name = %s", (run,)).fetchone()
        return str(row[0]) if row else None

    def update_serving(self) -> None:
        """Put the registry's production version into the serving RayService's Serve config."""
        conditions = self.status.get("conditions") or []
        if any(c.get("type") == "ServingUpdated" and c.get("status") == "True" for c in conditions):
            return
        production = self.rt.registry.production()
        if production is None:
            return
        spec = training_run_spec(self.body.get("spec") or {})
        namespace, service = self.meta["namespace"], spec.serving_ref.name
        current = self.rt.kube.get(RAY_GROUP, RAY_VERSION, namespace, "rayservices", service)
        if current is None:
            self.condition(
                "ServingUpdated", False, "RayServiceNotFound",
                f"no RayService {service} in {namespace}; retrying",
            )  # fmt: skip
            return
        config = (current.get("spec") or {}).get("serveConfigV2") or ""
        try:
            updated = builders.serve_config_with_model(config, production.version)
        except ValueError as exc:
            self.condition("ServingUpdated", False, "BadServeConfig", str(exc))
            return
        if builders.served_model_version(config) != production.version:
            self.rt.kube.patch(
                RAY_GROUP, RAY_VERSION, namespace, "rayservices", service,
                {"spec": {"serveConfigV2": updated}},
            )  # fmt: skip
            kopf.info(
                self.body,
                reason="ServingUpdated",
                message=f"RayService {service} now serves {production.version}",
            )
        self.condition(
            "ServingUpdated", True, "ServeConfigSet", f"RayService {service}: {production.version}"
        )


def training_run_deleted(body: kopf.Body, meta: kopf.Meta, **_: Any) -> None:
    """Stop the RayJob and remove the run's checkpoints and published model under ``runs/``;
    a registered model keeps its own copy under ``models/``."""
    rt = runtime()
    namespace, name = meta["namespace"], meta["name"]
    rt.kube.delete(RAY_GROUP, RAY_VERSION, namespace, "rayjobs", builders.rayjob_name(name))
    run = builders.run_name(namespace, name)
    removed = _delete_under(rt.blobs, f"runs/{run}/")
    kopf.info(body, reason="Cleaned", message=f"removed {removed} run files of {run}")

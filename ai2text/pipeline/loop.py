"""The training loop: when to train, on what, and whether the result replaces production.

Both drivers call this module: ``ai2text serve`` (triggered by ``dataset.ready``, a daily schedule
or ``POST /v1/train/now``) and the Kubernetes operator (through ``Dataset`` and ``TrainingRun``
resources). :func:`decide_training` and :func:`decide_dataset` are the rules, free of I/O;
:func:`request_training` records an accepted trigger as a pending ``training_runs`` row (the
durable queue: a request survives a restart); :func:`run_cycle` takes one pending run through
dataset build, Ray Train fine-tuning from the production model, registration and the promotion
gate on held-out speakers (:mod:`ai2text.registry.promotion`). Serving swaps to a promoted model
by itself (it watches the registry).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from psycopg.types.json import Jsonb

from ai2text.asr.training import TrainConfig
from ai2text.bus.bus import EventBus
from ai2text.bus.events import TRAINING_COMPLETED, TRAINING_STARTED, CloudEvent
from ai2text.config import Settings
from ai2text.data.builder import SelectionPolicy
from ai2text.registry.registry import ModelRegistry
from ai2text.store.database import Conn
from ai2text.store.metadata import record_audit
from ai2text.store.splits import SPLITS

log = logging.getLogger(__name__)

Trigger = Literal["dataset.ready", "schedule", "manual"]
TRIGGERS: tuple[Trigger, ...] = ("dataset.ready", "schedule", "manual")
LOOP_PREFIX = "loop-"


@dataclass(frozen=True)
class LoopState:
    active_run: str | None  # a pending or running loop run
    train_hours: float
    last_dataset: str | None  # the dataset hash the last finished loop run trained on


@dataclass(frozen=True)
class Decision:
    go: bool
    reason: str


def decide_training(trigger: Trigger, state: LoopState) -> Decision:
    """Whether a trigger starts a run: never two at once, never without training data."""
    if state.active_run is not None:
        return Decision(False, f"run {state.active_run} is already pending or running")
    if state.train_hours <= 0:
        return Decision(False, "no transcribed training-split audio to train on")
    return Decision(True, f"{trigger}: {state.train_hours:.3f} h in the training split")


def crossings(train_hours: float, threshold_hours: float) -> int:
    """How many multiples of ``threshold_hours`` the training split has reached: each new one is
    a threshold crossing that may start one run (never two for the same crossing)."""
    if threshold_hours <= 0:
        raise ValueError("the hours threshold must be positive")
    return int(train_hours // threshold_hours)


def schedule_due(daily_at: str, now: datetime, last_day: str | None) -> str | None:
    """The UTC day (ISO date) a daily schedule at ``HH:MM`` owes a run at ``now``, or None when
    today's time has not come or today's run was already asked for."""
    hour, minute = (int(part) for part in daily_at.split(":"))
    now = now.astimezone(UTC)
    if (now.hour, now.minute) < (hour, minute):
        return None
    today = now.date().isoformat()
    return None if last_day == today else today


def decide_dataset(
    trigger: Trigger, dataset: str, last_dataset: str | None, sizes: dict[str, int]
) -> Decision:
    """Whether a built dataset is worth a run: it needs every split (the gate scores the test
    speakers, validation picks nothing but reports), and, unless asked by hand, new data."""
    empty = [split for split in SPLITS if sizes.get(split, 0) == 0]
    if empty:
        return Decision(False, f"dataset {dataset} has no utterances in {', '.join(empty)}")
    if trigger != "manual" and dataset == last_dataset:
        return Decision(False, f"dataset {dataset} is what the last run trained on")
    return Decision(True, f"dataset {dataset}")


def loop_state(conn: Conn, policy: SelectionPolicy) -> LoopState:
    from ai2text.data.builder import selectable_hours

    active = conn.execute(
        "SELECT name FROM training_runs WHERE name LIKE %s AND status IN ('pending', 'running')"
        " ORDER BY created_at LIMIT 1",
        (LOOP_PREFIX + "%",),
    ).fetchone()
    train_hours = selectable_hours(conn, policy).get("train", 0.0)
    last = conn.execute(
        "SELECT config->>'dataset_hash' FROM training_runs WHERE name LIKE %s"
        " AND status IN ('succeeded', 'failed') AND config ? 'dataset_hash'"
        " ORDER BY finished_at DESC NULLS LAST LIMIT 1",
        (LOOP_PREFIX + "%",),
    ).fetchone()
    return LoopState(
        active[0] if active else None,
        train_hours,
        last[0] if last else None,
    )


def selection(settings: Settings) -> SelectionPolicy:
    return SelectionPolicy(min_confidence=settings.pipeline.min_confidence)


def train_config(settings: Settings) -> TrainConfig:
    p = settings.pipeline
    return TrainConfig(
        preset=p.train_preset,
        max_steps=p.train_max_steps,
        batch_seconds=p.train_batch_seconds,
        lr=p.train_lr,
        warmup_steps=min(p.train_warmup_steps, p.train_max_steps - 1),
        checkpoint_every=max(1, p.train_max_steps),
        log_every=max(1, min(10, p.train_max_steps)),
    )


def request_training(
    conn: Conn, settings: Settings, trigger: Trigger, *, actor: str, request_id: str
) -> Decision:
    """In the caller's transaction: decide, and queue a pending run when the answer is yes."""
    state = loop_state(conn, selection(settings))
    decision = decide_training(trigger, state)
    name = f"{LOOP_PREFIX}{uuid.uuid5(uuid.NAMESPACE_URL, request_id).hex[:12]}"
    if decision.go:
        conn.execute(
            "INSERT INTO training_runs (name, status, preset, config)"
            " VALUES (%s, 'pending', %s, %s) ON CONFLICT (name) DO NOTHING",
            (name, settings.pipeline.train_preset, Jsonb({"trigger": trigger, "actor": actor})),
        )
    record_audit(
        conn,
        actor=actor,
        action="training.request",
        entity_type="training_run",
        entity_id=name if decision.go else None,
        detail={"trigger": trigger, "go": decision.go, "reason": decision.reason},
    )
    return decision


@dataclass(frozen=True)
class CycleReport:
    run: str
    outcome: Literal["skipped", "promoted", "rejected", "failed"]
    reason: str
    dataset: str | None = None
    candidate: str | None = None
    train: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def claim_pending(conn: Conn) -> tuple[uuid.UUID, str, Trigger] | None:
    row = conn.execute(
        "SELECT id, name, config->>'trigger' FROM training_runs"
        " WHERE status = 'pending' AND name LIKE %s ORDER BY created_at"
        " LIMIT 1 FOR UPDATE SKIP LOCKED",
        (LOOP_PREFIX + "%",),
    ).fetchone()
    if row is None:
        return None
    conn.execute(
        "UPDATE training_runs SET status = 'running', started_at = now() WHERE id = %s", (row[0],)
    )
    trigger: Trigger = row[2] if row[2] in TRIGGERS else "manual"
    return row[0], row[1], trigger


def abandon_interrupted(conn: Conn) -> int:
    """Mark loop runs left running by a driver that stopped as failed (call at start-up)."""
    cursor = conn.execute(
        "UPDATE training_runs SET status = 'failed', error = 'interrupted: the driver stopped',"
        " finished_at = now() WHERE status = 'running' AND name LIKE %s",
        (LOOP_PREFIX + "%",),
    )
    return cursor.rowcount


def run_next(
    registry: ModelRegistry, bus: EventBus, settings: Settings, work_dir: Path
) -> CycleReport | None:
    """Take the oldest pending loop run (if any) through :func:`run_cycle`."""
    with registry.db.connection() as conn, conn.transaction():
        claimed = claim_pending(conn)
    if claimed is None:
        return None
    run_id, name, trigger = claimed
    try:
        report = run_cycle(registry, bus, settings, work_dir, run_id, name, trigger)
    except Exception as exc:
        log.exception("training run %s failed", name)
        report = CycleReport(name, "failed", f"{type(exc).__name__}: {exc}")
    _finish(registry, bus, run_id, report)
    return report


def run_cycle(
    registry: ModelRegistry,
    bus: EventBus,
    settings: Settings,
    work_dir: Path,
    run_id: uuid.UUID,
    name: str,
    trigger: Trigger,
) -> CycleReport:
    from ai2text.data.builder import build, local_rows
    from ai2text.registry.promotion import run_gate
    from ai2text.store.blobs import run_storage
    from ai2text.store.runs import record_epochs
    from training.train import run_training

    db, blobs = registry.db, registry.blobs
    policy = selection(settings)
    with db.connection() as conn:
        last = loop_state(conn, policy).last_dataset
    dataset = build(db, blobs, policy)
    sizes = {split: s.utterances for split, s in dataset.splits.items()}
    decision = decide_dataset(trigger, dataset.dataset_hash, last, sizes)
    if not decision.go:
        return CycleReport(name, "skipped", decision.reason, dataset.dataset_hash)
    cache = settings.home / "cache" / "datasets"
    train, val, test = (local_rows(blobs, dataset.dataset_hash, s, cache) for s in SPLITS)
    production = registry.production()
    base_path = registry.fetch(production.version) if production else None
    config = train_config(settings)
    with db.connection() as conn, conn.transaction():
        conn.execute(
            "UPDATE training_runs SET base_version = %s, dataset_uri = %s,"
            " config = config || %s WHERE id = %s",
            (
                production.version if production else None,
                f"datasets/{dataset.dataset_hash}",
                Jsonb({"dataset_hash": dataset.dataset_hash, "train": config.model_dump()}),
                run_id,
            ),
        )
        bus.publish(conn, _event(TRAINING_STARTED, name, {"dataset": dataset.dataset_hash}))
    storage, filesystem = run_storage(settings)
    report = run_training(
        config,
        train,
        val,
        workers=settings.pipeline.train_workers,
        storage=storage,
        storage_filesystem=filesystem,
        run_name=name,
        out_dir=work_dir / name,
        base=base_path,
    )
    record_epochs(db, run_id, report.history, report.val_cer, report.val_wer)
    candidate = registry.register(
        report.checkpoint,
        actor="system:training-loop",
        metrics={"val_wer": report.val_wer, "val_cer": report.val_cer},
        parent_version=production.version if production else None,
        training_run_id=str(run_id),
        dataset_hash=dataset.dataset_hash,
    )
    gate = run_gate(
        registry, candidate.version, test, settings.promotion, actor="system:training-loop",
        bus=bus,
    )  # fmt: skip
    return CycleReport(
        name,
        "promoted" if gate.promote else "rejected",
        gate.reason,
        dataset.dataset_hash,
        candidate.version,
        report.to_json(),
    )


def _finish(registry: ModelRegistry, bus: EventBus, run_id: uuid.UUID, report: CycleReport) -> None:
    status = "failed" if report.outcome == "failed" else "succeeded"
    metrics = {"outcome": report.outcome, "reason": report.reason, **(report.train or {})}
    with registry.db.connection() as conn, conn.transaction():
        conn.execute(
            "UPDATE training_runs SET status = %s, metrics = %s, error = %s, model_version = %s,"
            " finished_at = now() WHERE id = %s",
            (
                status,
                Jsonb(json.loads(json.dumps(metrics, default=str))),
                report.reason if status == "failed" else None,
                report.candidate,
                run_id,
            ),
        )
        record_audit(
            conn,
            actor="system:training-loop",
            action="training.finish",
            entity_type="training_run",
            entity_id=report.run,
            detail={"outcome": report.outcome, "reason": report.reason},
        )
        bus.publish(conn, _event(TRAINING_COMPLETED, report.run, report.to_json()))


def _event(kind: str, run: str, data: dict[str, Any]) -> CloudEvent:
    return CloudEvent(
        type=kind,
        source="ai2text/training-loop",
        subject=run,
        data=json.loads(json.dumps({"run": run, **data}, default=str)),
        idempotencykey=f"{kind}:{run}",
    )

"""Training runs and their per-epoch metrics in the metadata database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ai2text.store.database import Database
from ai2text.store.metadata import record_audit


def start_run(
    db: Database,
    name: str,
    config: BaseModel,
    base_version: str | None,
    dataset_uri: str,
    base: str | None = None,
) -> uuid.UUID:
    """Record a run as running (again, when a run of that name is resumed); return its id.

    ``base_version`` is a registry version the run starts from; ``base`` is what the user named
    (a version or a .nemo path), kept in the audit entry."""
    with db.connection() as conn, conn.transaction():
        row = conn.execute(
            "INSERT INTO training_runs (name, status, preset, base_version, dataset_uri, config,"
            " started_at) VALUES (%s, 'running', %s, %s, %s, %s, now())"
            " ON CONFLICT (name) DO UPDATE SET status = 'running', error = NULL,"
            " started_at = now(), finished_at = NULL RETURNING id",
            (
                name,
                getattr(config, "preset", None),
                base_version,
                dataset_uri,
                Jsonb(config.model_dump()),
            ),
        ).fetchone()
        assert row is not None  # INSERT ... RETURNING always returns the row
        record_audit(
            conn,
            actor="trainer",
            action="training.start",
            entity_type="training_run",
            entity_id=name,
            detail={"base": base} if base else None,
        )
    return uuid.UUID(str(row[0]))


def finish_run(
    db: Database,
    run_id: uuid.UUID,
    *,
    metrics: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    with db.connection() as conn, conn.transaction():
        conn.execute(
            "UPDATE training_runs SET status = %s, metrics = %s, error = %s, finished_at = now()"
            " WHERE id = %s",
            ("failed" if error else "succeeded", Jsonb(metrics or {}), error, run_id),
        )


def record_epochs(
    db: Database,
    run_id: uuid.UUID,
    history: Sequence[tuple[int, int, float, float]],
    val_cer: float,
    val_wer: float,
) -> None:
    """One row per epoch: its last step, loss and learning rate; validation on the last epoch."""
    last: dict[int, tuple[int, float, float]] = {}
    for step, epoch, loss, lr in history:
        last[epoch] = (step, loss, lr)
    final_epoch = max(last) if last else None
    with db.connection() as conn, conn.transaction():
        for epoch, (step, loss, lr) in sorted(last.items()):
            validated = epoch == final_epoch
            conn.execute(
                "INSERT INTO epoch_metrics (run_id, epoch, step, train_loss, lr, val_cer, val_wer)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_id, epoch) DO UPDATE SET"
                " step = EXCLUDED.step, train_loss = EXCLUDED.train_loss, lr = EXCLUDED.lr,"
                " val_cer = EXCLUDED.val_cer, val_wer = EXCLUDED.val_wer",
                (
                    run_id,
                    epoch,
                    step,
                    loss,
                    lr,
                    val_cer if validated else None,
                    val_wer if validated else None,
                ),
            )

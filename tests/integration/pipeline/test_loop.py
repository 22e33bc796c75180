"""The loop on one machine, end to end: files dropped in the hot folder (one folder per speaker)
are transcribed, post-processed and indexed; the training split's hours cross the threshold,
``dataset.ready`` starts a Ray Train fine-tuning run of the production model (tiny, two steps), and
the gate scores candidate and production on the held-out speakers and decides."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from ai2text.bus.bus import open_bus
from ai2text.bus.events import DATASET_READY, MODEL_PROMOTED, TRAINING_COMPLETED, TRAINING_STARTED
from ai2text.config import Settings
from ai2text.pipeline.local import local_engines
from ai2text.pipeline.runner import Pipeline
from ai2text.registry.registry import ModelRegistry
from ai2text.store.database import Database
from ai2text.store.vectors import PgVectorStore
from tests.conftest import BOOTSTRAP
from tests.integration.pipeline.flow import speaker_in, synthesize_files

pytestmark = pytest.mark.integration
SENTENCES = [
    "xin chào các bạn",
    "hôm nay trời đẹp quá",
    "tôi thích đọc sách",
    "thành phố có nhiều cây xanh",
    "chúng tôi đi học",
    "mẹ nấu cơm ngon",
]


def _wait(db: Database, query: str, until: Any, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with db.connection() as conn:
            row = conn.execute(query).fetchone()
        if until(row):
            return row
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for: {query} (last {row})")


def test_dropped_files_reach_a_training_run_and_a_promotion_decision(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    files = synthesize_files(SENTENCES, tmp_path / "speech", seed=21)
    held_out = {speaker_in("val"): files[0:1], speaker_in("test"): files[1:2]}
    training = {speaker_in("train"): files[2:4], speaker_in("train", "other"): files[4:6]}
    train_seconds = sum(p.stat().st_size - 44 for group in training.values() for p in group) / 32000
    looped = settings.model_copy(update={"pipeline": settings.pipeline.model_copy(update={
        "hot_folder": inbox, "hot_folder_stable_s": 0.0, "hot_folder_poll_s": 0.2,
        "dataset_ready_hours": 0.9 * train_seconds / 3600, "min_confidence": 0.0,
        "train_max_steps": 2, "train_warmup_steps": 1, "train_daily_at": None,
    })})  # fmt: skip
    registry = ModelRegistry.from_settings(db, looped)
    bus = open_bus(looped, db)
    engines, asr = local_engines(looped, registry)
    pipeline = Pipeline(looped, registry, bus, registry.blobs, PgVectorStore(db), engines)
    pipeline.start()
    try:

        def drop(groups: dict[str, list[Path]]) -> None:
            for speaker, paths in groups.items():
                (inbox / speaker).mkdir(parents=True, exist_ok=True)
                for path in paths:
                    shutil.copy(path, inbox / speaker / path.name)

        drop(held_out)  # the held-out speakers first: the threshold counts the training split
        _wait(db, "SELECT count(*) FROM search_documents", lambda r: r[0] == 2, 120)
        drop(training)
        run = _wait(
            db,
            "SELECT name, status, config->>'trigger', model_version, metrics"
            " FROM training_runs WHERE status IN ('succeeded', 'failed')",
            lambda r: r is not None,
            500,
        )
    finally:
        pipeline.stop()
        asr.close()
        import ray

        # the run started Ray in this process: a cluster left behind outlives its GCS later in
        # the session, and Ray then ends the whole test process (exit 1, "Failed to connect to GCS")
        ray.shutdown()
    _, status, trigger, candidate, metrics = run
    assert status == "succeeded" and trigger == "dataset.ready", metrics
    assert metrics["outcome"] in ("promoted", "rejected") and metrics["steps"] == 2
    with db.connection() as conn:
        events = dict(conn.execute("SELECT type, count(*) FROM bus_events GROUP BY type"))
        version = conn.execute(
            "SELECT status, parent_version, dataset_hash, metrics->'gate' FROM model_versions"
            " WHERE version = %s",
            (candidate,),
        ).fetchone()
        audio = conn.execute("SELECT count(*), count(speaker_id) FROM audio").fetchone()
    assert audio == (6, 6)
    assert events[DATASET_READY] == 1 and events[TRAINING_STARTED] == 1
    assert events[TRAINING_COMPLETED] == 1
    assert version is not None and version[1] == BOOTSTRAP and version[2]
    gate = version[3]
    assert gate["production_version"] == BOOTSTRAP and gate["candidate"]["utterances"] == 1
    promoted = metrics["outcome"] == "promoted"
    assert version[0] == ("production" if promoted else "rejected")
    assert events.get(MODEL_PROMOTED, 0) == int(promoted)
    assert (inbox / "processed").is_dir() and not list((inbox / "failed").glob("**/*.wav"))
    bus.close()

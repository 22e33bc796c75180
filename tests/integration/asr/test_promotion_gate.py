"""The gate on real checkpoints: a better candidate is promoted, a worse one is kept out."""

from __future__ import annotations

from pathlib import Path

from ai2text.asr.model import build_model
from ai2text.bus.bus import open_bus
from ai2text.config import PromotionPolicy, Settings
from ai2text.data.manifest import read_manifest
from ai2text.registry.promotion import run_gate
from ai2text.registry.registry import ModelRegistry
from ai2text.store.blobs import LocalBlobStore
from ai2text.store.database import Database
from tests.integration.conftest import TrainedModel


def test_gate_promotes_the_better_and_keeps_out_the_worse(
    db: Database, settings: Settings, trained_tiny: TrainedModel, tmp_path: Path
) -> None:
    registry = ModelRegistry(db, LocalBlobStore(settings.blob_dir), settings.home / "models")
    untrained = tmp_path / "untrained.nemo"
    build_model("tiny").save(untrained)
    registry.register(untrained, actor="test", version="untrained")
    registry.register(trained_tiny.path, actor="test", version="trained")
    rows = read_manifest(trained_tiny.manifest)
    policy = PromotionPolicy(min_wer_gain=0.01, wer_ceiling=0.5)
    bus = open_bus(settings, db)
    bus.subscribe("watcher", ["model.promoted"])

    first = run_gate(registry, "untrained", rows, policy, actor="test", bus=bus)
    assert not first.promote and "not under the ceiling" in first.reason
    assert registry.get("untrained").status == "rejected"

    second = run_gate(registry, "trained", rows, policy, actor="test", bus=bus)
    assert second.promote and second.candidate.wer < 0.5
    assert registry.production() is not None and registry.production().version == "trained"  # type: ignore[union-attr]

    registry.register(untrained, actor="test", version="untrained-again")
    third = run_gate(registry, "untrained-again", rows, policy, actor="test", bus=bus)
    assert not third.promote and third.production_version == "trained"
    assert third.production is not None and third.production.wer < third.candidate.wer
    assert registry.production().version == "trained"  # type: ignore[union-attr]

    with db.connection() as conn:
        promoted = conn.execute(
            "SELECT subject FROM bus_events WHERE type = 'model.promoted'"
        ).fetchall()
        gates = conn.execute(
            "SELECT entity_id, detail->>'promote' FROM audit_log"
            " WHERE action = 'model.gate' ORDER BY id"
        ).fetchall()
    assert promoted == [("trained",)]
    assert gates == [("untrained", "false"), ("trained", "true"), ("untrained-again", "false")]
    assert registry.get("trained").metrics["gate"]["promote"] is True
    bus.close()

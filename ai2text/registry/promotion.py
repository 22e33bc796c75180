"""The promotion gate: a candidate replaces production only if it is better on held-out speakers.

Both models are scored on the same test rows (speakers never seen in training) from their real
checkpoints. The candidate is promoted when its WER is lower by at least ``min_wer_gain`` and its
CER is no worse (up to ``max_cer_loss``); with no production model, when its WER is under
``wer_ceiling``. The decision, its reason and both models' figures are written to the audit log
and the candidate's metrics; a promotion publishes ``model.promoted`` (through the registry), a
refusal marks the candidate rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from ai2text.bus.bus import EventBus
from ai2text.config import PromotionPolicy
from ai2text.data.manifest import ManifestRow
from ai2text.eval.metrics import CorpusScore
from ai2text.registry.registry import ModelRegistry
from ai2text.store.metadata import record_audit


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    candidate: CorpusScore
    production: CorpusScore | None
    production_version: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "reason": self.reason,
            "candidate": self.candidate.to_json(),
            "production": self.production.to_json() if self.production else None,
            "production_version": self.production_version,
        }


def decide(
    candidate: CorpusScore,
    production: CorpusScore | None,
    policy: PromotionPolicy,
    production_version: str | None = None,
) -> GateDecision:
    """The gate's rule, free of I/O."""
    if production is None:
        if candidate.wer < policy.wer_ceiling:
            reason = (
                f"no production model; WER {candidate.wer:.4f} is under the ceiling "
                f"{policy.wer_ceiling:.4f}"
            )
            return GateDecision(True, reason, candidate, None, None)
        reason = (
            f"no production model, but WER {candidate.wer:.4f} is not under the ceiling "
            f"{policy.wer_ceiling:.4f}"
        )
        return GateDecision(False, reason, candidate, None, None)
    gain = production.wer - candidate.wer
    if gain < policy.min_wer_gain:
        reason = (
            f"WER {candidate.wer:.4f} vs {production.wer:.4f}: a gain of {gain:.4f}, "
            f"under the required {policy.min_wer_gain:.4f}"
        )
        return GateDecision(False, reason, candidate, production, production_version)
    if candidate.cer > production.cer + policy.max_cer_loss:
        reason = (
            f"WER gains {gain:.4f} but CER worsens: {candidate.cer:.4f} vs {production.cer:.4f}"
        )
        return GateDecision(False, reason, candidate, production, production_version)
    reason = (
        f"WER {candidate.wer:.4f} vs {production.wer:.4f} (gain {gain:.4f}), "
        f"CER {candidate.cer:.4f} vs {production.cer:.4f}"
    )
    return GateDecision(True, reason, candidate, production, production_version)


def run_gate(
    registry: ModelRegistry,
    candidate_version: str,
    test_rows: Sequence[ManifestRow],
    policy: PromotionPolicy,
    *,
    actor: str,
    bus: EventBus | None = None,
) -> GateDecision:
    """Score candidate and production on ``test_rows``, decide, record, and promote or reject."""
    from ai2text.asr.model import load_model
    from ai2text.eval.evaluate import evaluate_model

    candidate = evaluate_model(load_model(registry.fetch(candidate_version)), test_rows)
    production_entry = registry.production()
    production = None
    production_version = None
    if production_entry is not None and production_entry.version != candidate_version:
        production_version = production_entry.version
        production = evaluate_model(load_model(registry.fetch(production_version)), test_rows)
    decision = decide(candidate, production, policy, production_version)
    with registry.db.connection() as conn, conn.transaction():
        conn.execute(
            "UPDATE model_versions SET metrics = metrics || %s WHERE version = %s",
            (Jsonb({"gate": decision.to_json()}), candidate_version),
        )
        record_audit(
            conn,
            actor=actor,
            action="model.gate",
            entity_type="model_version",
            entity_id=candidate_version,
            detail=decision.to_json(),
        )
        if not decision.promote:
            conn.execute(
                "UPDATE model_versions SET status = 'rejected'"
                " WHERE version = %s AND status = 'candidate'",
                (candidate_version,),
            )
    if decision.promote:
        registry.promote(candidate_version, actor=actor, reason=decision.reason, bus=bus)
    return decision

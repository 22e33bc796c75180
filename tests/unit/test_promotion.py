from __future__ import annotations

from ai2text.config import PromotionPolicy
from ai2text.eval.metrics import CorpusScore
from ai2text.registry.promotion import decide

POLICY = PromotionPolicy(min_wer_gain=0.01, max_cer_loss=0.0, wer_ceiling=0.4)


def score(wer: float, cer: float) -> CorpusScore:
    return CorpusScore(
        utterances=10, wer=wer, cer=cer, tone_error_rate=0.0, diacritic_error_rate=0.0
    )


def test_better_on_both_is_promoted() -> None:
    decision = decide(score(0.20, 0.05), score(0.25, 0.06), POLICY, "v1")
    assert decision.promote and "gain 0.0500" in decision.reason


def test_too_small_a_gain_is_kept_out() -> None:
    assert not decide(score(0.245, 0.05), score(0.25, 0.06), POLICY).promote


def test_worse_cer_is_kept_out_even_with_better_wer() -> None:
    decision = decide(score(0.20, 0.07), score(0.25, 0.06), POLICY)
    assert not decision.promote and "CER worsens" in decision.reason


def test_first_model_needs_the_ceiling() -> None:
    assert decide(score(0.30, 0.1), None, POLICY).promote
    assert not decide(score(0.45, 0.1), None, POLICY).promote

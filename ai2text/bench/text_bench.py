"""``ai2text bench text``: single-core speed of normalization, inverse normalization and
diacritics restoration, in sentences per second.

No peer is named for these (NeMo's Vietnamese grammars need pynini, which is not installable
here), so each figure is reported beside its goal from the issue and the ratio is ours / goal.
The sentences are the team's held-out corpus; for normalization each gets a written quantity
(a date, a time, money, a measure, a number...) so every class is exercised, and inverse
normalization reads the spoken result back. Restoration strips the marks and restores them,
reporting syllable accuracy too.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# the issue sets goals for normalization and restoration; ITN is held to the normalization one
GOALS = {"normalize": 10_000.0, "itn": 10_000.0, "restore": 1_000.0}
WRITTEN = (
    lambda r: f"ngày {r.randrange(1, 29)}/{r.randrange(1, 13)}/{r.randrange(1950, 2030)}",
    lambda r: f"lúc {r.randrange(0, 24)}h{r.randrange(0, 60):02d}",
    lambda r: f"giá {r.randrange(1, 999)}.{r.randrange(0, 1000):03d}đ",
    lambda r: f"{r.randrange(1, 500)}km",
    lambda r: f"{r.randrange(1, 100)},{r.randrange(0, 10)}%",
    lambda r: f"{r.randrange(2, 10**7)} người",
    lambda r: f"thứ {r.randrange(1, 30)}",
    lambda r: f"thế kỷ {r.choice(['XIX', 'XX', 'XXI'])}",
)  # fmt: skip


def written_sentences(sentences: Sequence[str], seed: int = 0) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    return [f"{s} {rng.choice(WRITTEN)(rng)}" for s in sentences]


def _rate(function: Callable[[str], str], lines: Sequence[str], repeats: int) -> float:
    """Sentences per second, the best of ``repeats`` passes (one thread)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for line in lines:
            function(line)
        best = min(best, time.perf_counter() - started)
    return len(lines) / best


def _line(task: str, value: float, sentences: int, **extra: Any) -> dict[str, Any]:
    goal = GOALS[task]
    return {
        "bench": "text",
        "task": task,
        "metric": "sentences_per_s",
        "ours": round(value),
        "peer": "goal of the issue (no peer runs here)",
        "peer_value": goal,
        "ratio": round(value / goal, 2),
        "sentences": sentences,
        "threads": 1,
        **extra,
    }


def bench_text(cache_dir: Path, repeats: int = 3) -> list[dict[str, Any]]:
    from ai2text.config import TextSettings
    from ai2text.text.corpus import corpus_sentences
    from ai2text.text.postprocess import inverse_normalizer, normalizer
    from ai2text.text.restorer import default_restorer, evaluate_restorer

    settings = TextSettings()
    sentences = corpus_sentences("heldout")
    written = written_sentences(sentences)
    tn = normalizer(settings, False)
    itn = inverse_normalizer(settings, False)
    spoken = [tn.normalize(line) for line in written]
    characters = round(sum(map(len, written)) / len(written))
    restorer = default_restorer(cache_dir)
    score = evaluate_restorer(restorer, sentences)  # one cold pass: its memo starts empty
    return [
        _line("normalize", _rate(tn.normalize, written, repeats), len(written),
              mean_characters=characters),
        _line("itn", _rate(itn.itn, spoken, repeats), len(spoken)),
        _line("restore", score.sentences_per_s, len(sentences),
              syllable_accuracy=round(score.accuracy, 4), model="default (team corpus)"),
    ]  # fmt: skip

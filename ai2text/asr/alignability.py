"""Which utterances a CTC model can align at all, counted and reported, never dropped silently.

CTC needs one encoder frame per label, plus one blank between two equal labels in a row. At 8x
subsampling (12.5 frames/s) most Vietnamese utterances written as characters (15-20 per second of
speech) do not fit; NeMo's ``zero_infinity`` would then zero their loss and hide them. Training
data goes through :func:`check_utterances` first, and the report says how many would be lost.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ai2text.asr.vocabulary import Vocabulary


def frames_needed(tokens: Sequence[int]) -> int:
    """The fewest CTC frames that can emit ``tokens``."""
    repeats = sum(1 for a, b in itertools.pairwise(tokens) if a == b)
    return len(tokens) + repeats


def frames_available(duration_s: float, frame_s: float) -> int:
    return math.floor(duration_s / frame_s + 1e-9)


@dataclass(frozen=True)
class Problem:
    audio: str
    reason: str


@dataclass
class AlignmentReport:
    total: int = 0
    usable: int = 0
    unalignable: list[Problem] = field(default_factory=list)
    out_of_vocabulary: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "utterances": self.total,
            "usable": self.usable,
            "unalignable": len(self.unalignable),
            "out_of_vocabulary": len(self.out_of_vocabulary),
            "examples": [p.reason for p in (self.unalignable + self.out_of_vocabulary)[:5]],
        }


def char_tokenizer(vocabulary: Vocabulary) -> Callable[[str], list[int] | None]:
    """Text to label ids, or None when a character is not in the vocabulary."""
    index = {label: i for i, label in enumerate(vocabulary.labels)}

    def tokenize(text: str) -> list[int] | None:
        ids = [index.get(c) for c in text]
        return None if any(i is None for i in ids) else [i for i in ids if i is not None]

    return tokenize


def check_utterances(
    utterances: Sequence[tuple[str, str, float]],
    tokenize: Callable[[str], list[int] | None],
    frame_s: float,
) -> tuple[list[int], AlignmentReport]:
    """Indices of usable (audio, text, duration) triples, and a report of the rest."""
    report = AlignmentReport(total=len(utterances))
    usable: list[int] = []
    for i, (audio, text, duration) in enumerate(utterances):
        tokens = tokenize(text)
        if tokens is None:
            report.out_of_vocabulary.append(
                Problem(audio, f"{audio}: characters outside the vocabulary")
            )
            continue
        needed, available = frames_needed(tokens), frames_available(duration, frame_s)
        if needed > available:
            report.unalignable.append(
                Problem(
                    audio, f"{audio}: needs {needed} frames, has {available} ({duration:.2f} s)"
                )
            )
            continue
        usable.append(i)
    report.usable = len(usable)
    return usable, report

"""Rewrites with offsets: what normalization, inverse normalization and diacritics restoration
changed, as ``{start, end, original, replacement, kind}`` spans over the input after NFC.

Every text stage returns a :class:`Rewritten` so a caller (the ASR post-processor, a UI that
highlights corrections) can show what changed where without diffing strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Correction:
    start: int  # character offsets into the NFC input
    end: int
    original: str
    replacement: str
    kind: str  # cardinal, date, time, money, measure, ..., diacritics, filler

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "original": self.original,
            "replacement": self.replacement,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Rewritten:
    source: str  # the NFC input the offsets point into
    text: str
    corrections: tuple[Correction, ...]

    def to_json(self) -> dict[str, Any]:
        return {"text_clean": self.text, "corrections": [c.to_json() for c in self.corrections]}


def apply_corrections(source: str, corrections: Sequence[Correction]) -> str:
    """``source`` with non-overlapping corrections (sorted by start) applied."""
    out, cursor = [], 0
    for fix in corrections:
        out.append(source[cursor : fix.start])
        out.append(fix.replacement)
        cursor = fix.end
    out.append(source[cursor:])
    return "".join(out)


_WORD = re.compile(r"[^\W_]+")


def word_corrections(source: str, text: str, kind: str) -> Rewritten:
    """The words that differ between an NFC text and a same-length rewrite of it (diacritics
    restoration keeps every character's place), as corrections."""
    if len(source) != len(text):
        raise ValueError("word_corrections needs a rewrite of the same length")
    corrections = tuple(
        Correction(m.start(), m.end(), m.group(), text[m.start() : m.end()], kind)
        for m in _WORD.finditer(source)
        if text[m.start() : m.end()] != m.group()
    )
    return Rewritten(source, text, corrections)

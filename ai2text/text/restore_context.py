"""The observed-context part of diacritics restoration: P(marked form | stripped window).

The input of restoration is stripped, so the stripped forms of all the neighbours, left and right,
are known before any search. Counts of (form | stripped window) are far less sparse than the marked
n-grams of the LM, they see the right context directly, and they see case: a capitalized syllable
inside a sentence is mostly part of a name (``"Thu"`` is ``Thu``, ``"thu"`` is often ``thư``).
The windows back off from (s-1, s, s+1) to (s-1, s) and (s, s+1), to s with its case mark, to s
alone, then to a uniform choice, with Witten-Bell interpolation at each step.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from ai2text.text.syllables import base_letters

TOKEN = re.compile(r"[^\W_]+")
SENTENCE_END = re.compile(r"[.!?\u2026]")
_EDGE = "|"  # outside the sentence
_NAME = "^"  # a capitalized syllable inside a sentence (not an all-capitals word)
_Table = dict[str, tuple[float, dict[str, int]]]  # window -> (total + distinct forms, counts)


def segments(line: str) -> Iterator[list[str]]:
    """The tokens of one line, as typed, in sentences: a sentence ends at . ! ? or an ellipsis."""
    matches = list(TOKEN.finditer(line))
    start = 0
    for i in range(1, len(matches) + 1):
        if i == len(matches) or SENTENCE_END.search(line, matches[i - 1].end(), matches[i].start()):
            yield [m.group() for m in matches[start:i]]
            start = i


def features(tokens: Sequence[str]) -> list[str]:
    """Each token's base letters, lower-cased, with a mark for a capitalized one inside."""
    out = []
    for i, token in enumerate(tokens):
        key = base_letters(token.lower())
        if i and token[0].isupper() and not (len(token) > 1 and token.isupper()):
            key += _NAME
        out.append(key)
    return out


def _windows(feats: Sequence[str], i: int) -> tuple[str, str, str, str, str]:
    """The window keys of position ``i``, from the widest: (s-1 s s+1), (s-1 s), (s s+1), s, and
    s without its case mark."""
    left = feats[i - 1] if i else _EDGE
    right = feats[i + 1] if i + 1 < len(feats) else _EDGE
    here = feats[i]
    return (f"{left} {here} {right}", f"{left} {here}", f"{here} {right}", here, here.rstrip(_NAME))


class ContextModel:
    """Counts of each lower-case marked form given the stripped windows around it."""

    def __init__(self, counts: Sequence[dict[str, dict[str, int]]]) -> None:
        if len(counts) != 5:
            raise ValueError("a context model has five window tables")
        self.counts = list(counts)
        self._tables: list[_Table] = [
            {key: (float(sum(forms.values()) + len(forms)), forms) for key, forms in table.items()}
            for table in counts
        ]

    @classmethod
    def train(cls, sentences: Iterable[str]) -> ContextModel:
        counts: list[dict[str, dict[str, int]]] = [defaultdict(dict) for _ in range(5)]
        for sentence in sentences:
            for tokens in segments(unicodedata.normalize("NFC", sentence)):
                feats = features(tokens)
                for i, token in enumerate(tokens):
                    form = token.lower()
                    for table, key in zip(counts, _windows(feats, i), strict=True):
                        forms = table[key]
                        forms[form] = forms.get(form, 0) + 1
        return cls([dict(table) for table in counts])

    def probabilities(self, feats: Sequence[str], i: int, candidates: Sequence[str]) -> list[float]:
        """P(each candidate form at position ``i`` | the stripped windows around it)."""
        wide, left, right, cased, bare = (
            table.get(key) for table, key in zip(self._tables, _windows(feats, i), strict=True)
        )
        probs = [1.0 / len(candidates)] * len(candidates)
        for entry in (bare, cased):
            probs = _interpolate(entry, candidates, probs)
        both = [
            (a + b) / 2
            for a, b in zip(
                _interpolate(left, candidates, probs),
                _interpolate(right, candidates, probs),
                strict=True,
            )
        ]
        return _interpolate(wide, candidates, both)


def _interpolate(
    entry: tuple[float, dict[str, int]] | None, candidates: Sequence[str], lower: list[float]
) -> list[float]:
    """Witten-Bell: (count + distinct forms * lower estimate) / (total + distinct forms)."""
    if entry is None:
        return lower
    norm, forms = entry
    weight = len(forms)
    return [(forms.get(c, 0) + weight * p) / norm for c, p in zip(candidates, lower, strict=True)]

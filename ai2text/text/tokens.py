"""Search helpers: syllables with their offsets, diacritic folding, and word segmentation.

Vietnamese writes one syllable per token, and many words span two or three syllables
(``thành phố``, ``Việt Nam``). Search indexes syllables folded to their base letters, so a query
typed without marks (``tieng viet``) finds ``tiếng Việt``; :func:`fold` keeps the length of NFC
text, so an offset into the folded text is an offset into the original. Words come from a
lexicon of collocations learned from a corpus (syllable pairs and triples that occur together far
more often than chance, by pointwise mutual information), applied by longest match.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ai2text.text.syllables import base_letters
from ai2text.text.transcript import normalize_transcript

_SYLLABLE = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Span:
    text: str
    start: int  # offsets into the NFC text
    end: int


def syllables(text: str) -> list[Span]:
    """The syllables (letter and digit runs) of the NFC text, with their offsets."""
    nfc = unicodedata.normalize("NFC", text)
    return [Span(m.group(), m.start(), m.end()) for m in _SYLLABLE.finditer(nfc)]


def fold(text: str) -> str:
    """Lower case without marks, one character for one: ``"Tiếng Việt"`` -> ``"tieng viet"``."""
    nfc = unicodedata.normalize("NFC", text)
    return "".join(base_letters(c) or c for c in nfc.lower())


def learn_lexicon(
    sentences: Iterable[str], min_count: int = 3, min_pmi: float = 3.0, max_syllables: int = 3
) -> frozenset[str]:
    """Multi-syllable words: n-grams (2..max_syllables) seen at least ``min_count`` times whose
    every split has a pointwise mutual information of at least ``min_pmi`` (natural log); an
    n-gram of three or more must also make up half the occurrences of its two shorter parts."""
    counts: Counter[tuple[str, ...]] = Counter()
    total = 0
    for sentence in sentences:
        tokens = normalize_transcript(sentence).split()
        total += len(tokens)
        for n in range(1, max_syllables + 1):
            counts.update(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    if total == 0:
        return frozenset()

    def probability(gram: tuple[str, ...]) -> float:
        return counts[gram] / total

    words = set()
    for gram, count in counts.items():
        if len(gram) < 2 or count < min_count:
            continue
        pmi = min(
            math.log(probability(gram) / (probability(gram[:k]) * probability(gram[k:])))
            for k in range(1, len(gram))
        )
        # a longer word must be most of what its parts are: "hồ chí minh" is, "của việt nam" not
        dominant = len(gram) == 2 or count >= 0.5 * max(counts[gram[:-1]], counts[gram[1:]])
        if pmi >= min_pmi and dominant:
            words.add(" ".join(gram))
    return frozenset(words)


def segment(tokens: Sequence[str], lexicon: frozenset[str], max_syllables: int = 3) -> list[str]:
    """Greedy longest match of lexicon words over lower-cased syllables; others stay single."""
    out, i = [], 0
    lowered = [t.lower() for t in tokens]
    while i < len(tokens):
        for n in range(min(max_syllables, len(tokens) - i), 1, -1):
            if " ".join(lowered[i : i + n]) in lexicon:
                out.append(" ".join(tokens[i : i + n]))
                i += n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


@lru_cache(maxsize=1)
def default_lexicon() -> frozenset[str]:
    """The collocations of the team's corpus (built in well under a second)."""
    from ai2text.text.corpus import corpus_sentences

    return learn_lexicon(corpus_sentences("train"))

"""A syllable n-gram language model with interpolated Kneser-Ney smoothing.

Vietnamese writes one syllable per space-separated token, so a syllable model is a word model. It
serves two callers: CTC beam search fuses it at each word boundary (shallow fusion), which fixes
many of the tone errors a small acoustic model makes, and diacritics restoration runs Viterbi
over the toned forms of each syllable with it. Trainable from any text (normalized with the shared
transcript normalization); saved as gzipped JSON, never pickled.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ai2text.errors import InputError
from ai2text.text.transcript import normalize_transcript

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
FORMAT = "ai2text-syllable-lm/1"


def _split(key: str) -> tuple[str, ...]:
    """A stored n-gram or context key as a tuple (syllables never hold spaces)."""
    return tuple(key.split(" ")) if key else ()


@dataclass
class _Level:
    """n-grams of one length: counts (continuation counts below the top order) and, per context,
    the total count and the number of distinct followers."""

    counts: dict[str, float] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    followers: dict[str, int] = field(default_factory=dict)


class SyllableLM:
    def __init__(self, order: int, discount: float, levels: list[_Level]) -> None:
        self.order = order
        self.discount = discount
        self._levels = levels  # levels[k] holds (k+1)-grams
        self._vocabulary = frozenset(k for k in levels[0].counts if k not in (BOS, EOS))
        # for speed, the same tables keyed by tuples (no joining at query time); per context, its
        # total and the mass its discount leaves to the lower order
        self._counts = [{_split(k): v for k, v in lv.counts.items()} for lv in levels]
        self._contexts = [
            {_split(k): (t, discount * lv.followers[k] / t) for k, t in lv.totals.items() if t}
            for lv in levels
        ]
        # the unigram level spreads its discounted mass over every unigram and <unk>
        total, backoff = self._contexts[0][()]
        self._unigram = (total, backoff / (len(levels[0].counts) + 1))
        self._cache: dict[tuple[str, ...], float] = {}
        self._logs: dict[tuple[str, ...], float] = {}

    @property
    def vocabulary(self) -> frozenset[str]:
        return self._vocabulary

    @classmethod
    def train(cls, sentences: Iterable[str], order: int = 3, discount: float = 0.75) -> SyllableLM:
        """Count n-grams of normalized sentences and build the smoothed model."""
        if not 1 <= order <= 6:
            raise InputError("order must be 1 to 6")
        if not 0 < discount < 1:
            raise InputError("discount must be between 0 and 1")
        top: dict[tuple[str, ...], int] = defaultdict(int)
        lower: list[dict[tuple[str, ...], int]] = [defaultdict(int) for _ in range(order)]
        seen = 0
        for sentence in sentences:
            words = normalize_transcript(sentence).split()
            if not words:
                continue
            seen += 1
            tokens = [BOS] * (order - 1) + words + [EOS]
            for i in range(order - 1, len(tokens)):
                top[tuple(tokens[i - order + 1 : i + 1])] += 1
            # lower orders: every n-gram in the padded sentence, for the <s> contexts' raw counts
            padded = [BOS, *words, EOS]
            for n in range(1, order):
                for i in range(len(padded) - n + 1):
                    lower[n - 1][tuple(padded[i : i + n])] += 1
        if seen == 0:
            raise InputError("no sentences to train on")
        levels = [_Level() for _ in range(order)]
        # Kneser-Ney: below the top order an n-gram counts the distinct words that precede it;
        # n-grams starting at the sentence start have no predecessor and keep their raw counts.
        continuation: list[dict[tuple[str, ...], int]] = [defaultdict(int) for _ in range(order)]
        for n in range(2, order + 1):
            source = top if n == order else lower[n - 1]
            for gram in source:
                continuation[n - 2][gram[1:]] += 1
        for n in range(1, order + 1):
            level = levels[n - 1]
            if n == order:
                counts: dict[tuple[str, ...], float] = {g: float(c) for g, c in top.items()}
            else:
                counts = {
                    g: float(c if g[0] == BOS else continuation[n - 1].get(g, c))
                    for g, c in lower[n - 1].items()
                    if g != (BOS,)
                }
            for gram, count in counts.items():
                key = " ".join(gram)
                context = " ".join(gram[:-1])
                level.counts[key] = count
                level.totals[context] = level.totals.get(context, 0.0) + count
                level.followers[context] = level.followers.get(context, 0) + 1
        return cls(order, discount, levels)

    def _prob(self, gram: tuple[str, ...]) -> float:
        cached = self._cache.get(gram)
        if cached is not None:
            return cached
        n = len(gram) - 1
        if n == 0:
            total, floor = self._unigram
            value = max(self._counts[0].get(gram, 0.0) - self.discount, 0.0) / total + floor
        else:
            context = self._contexts[n].get(gram[:-1])
            if context is None:
                value = self._prob(gram[1:])
            else:
                total, backoff = context
                count = self._counts[n].get(gram, 0.0)
                value = max(count - self.discount, 0.0) / total + backoff * self._prob(gram[1:])
        if len(self._cache) < 500_000:
            self._cache[gram] = value
        return value

    def logprob(self, history: Sequence[str], word: str) -> float:
        """Natural log P(word | the last order-1 syllables of history, which may start with <s>)."""
        vocabulary, keep = self._vocabulary, self.order - 1
        word = word if word in vocabulary or word == EOS else UNK
        recent = history[max(len(history) - keep, 0) :] if keep else ()
        gram = (
            *(BOS,) * (keep - len(recent)),
            *(w if w in vocabulary else UNK for w in recent),
            word,
        )
        value = self._logs.get(gram)
        if value is None:
            value = math.log(self._prob(gram))
            if len(self._logs) < 500_000:
                self._logs[gram] = value
        return value

    def score(self, sentence: str) -> float:
        """Natural log probability of a whole sentence, end marker included."""
        words = normalize_transcript(sentence).split()
        return sum(self.logprob(words[:i], w) for i, w in enumerate([*words, EOS]))

    def perplexity(self, sentences: Iterable[str]) -> float:
        total, count = 0.0, 0
        for sentence in sentences:
            words = normalize_transcript(sentence).split()
            if words:
                total += self.score(sentence)
                count += len(words) + 1
        if count == 0:
            raise InputError("no sentences to measure")
        return math.exp(-total / count)

    def to_json(self) -> dict[str, object]:
        """The file body: the model as plain JSON data."""
        return {
            "format": FORMAT,
            "order": self.order,
            "discount": self.discount,
            "levels": [
                {"counts": lv.counts, "totals": lv.totals, "followers": lv.followers}
                for lv in self._levels
            ],
        }

    @classmethod
    def from_json(cls, body: object) -> SyllableLM:
        """The model of a :meth:`to_json` body; KeyError, TypeError or ValueError when malformed."""
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} body")
        levels = [
            _Level(
                counts={str(k): float(v) for k, v in lv["counts"].items()},
                totals={str(k): float(v) for k, v in lv["totals"].items()},
                followers={str(k): int(v) for k, v in lv["followers"].items()},
            )
            for lv in body["levels"]
        ]
        return cls(int(body["order"]), float(body["discount"]), levels)

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.part")
        with gzip.open(tmp, "wt", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, ensure_ascii=False)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> SyllableLM:
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                body = json.load(handle)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path} is not a syllable LM file: {exc}") from exc
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise InputError(f"{path} is not a {FORMAT} file")
        return cls.from_json(body)

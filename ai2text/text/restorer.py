"""Vietnamese diacritics restoration: ``"xin chao cac ban"`` -> ``"xin chào các bạn"``.

People often type Vietnamese without tone and vowel marks (old keyboards, SMS habits, search
boxes), and text from such sources must get its marks back before it can serve as a transcript or
training text. The CLI (``ai2text text restore``, ``ai2text text train-restorer``, ``ai2text bench
text``) calls :class:`Restorer`, :func:`default_restorer` and :func:`evaluate_restorer`.

The model is the syllable n-gram LM of :mod:`ai2text.text.syllable_lm`: each stripped syllable may
be any form seen in training with the same base letters (``"duong"`` -> ``đường``, ``dương``,
``được``...), and a beam search (Viterbi with hypotheses merged on their LM state) picks the most
probable sequence. Each choice also scores with the observed-context model of
:mod:`ai2text.text.restore_context` (P(form | the stripped neighbours and case)), which prunes
unlikely forms before the LM sees them. Syllables never seen pass through unchanged. The search
runs on the lower-cased tokens; the result is mapped back letter by letter onto the input, so
case, punctuation, digits and spacing stay as they were and every letter keeps its base letter
(NFC text keeps its length).
"""

from __future__ import annotations

import gzip
import json
import math
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ai2text.errors import InputError
from ai2text.text.corpus import corpus_cache, corpus_sentences
from ai2text.text.restore_context import TOKEN, ContextModel, features, segments
from ai2text.text.syllable_lm import EOS, SyllableLM
from ai2text.text.syllables import base_letters, strip_diacritics
from ai2text.text.transcript import normalize_transcript

_LINE = re.compile(r"(\r\n|\r|\n)")
FORMAT = "ai2text-restorer/2"
_UNSEEN = ("\x00",) * 5  # a history of unknown words: logprob falls back to the unigram level
_MEMO_LIMIT = 200_000  # memoized LM scores (about 50 MB at most)
# tuned on corpus/heldout.txt and UD test: a wider search gains 0.4 points at most, for 2-3x time
BEAM, MARGIN = 8, 6.0
# a form the context model finds this many times less likely than its best is not searched: it
# costs 0.05 points on UD dev and more than doubles the speed on news text
PRUNE = 0.1
WEIGHT = 0.75  # of the context model's log probability against the LM's: tuned on dev splits


_Chain = tuple[str, "_Chain"] | None  # chosen forms, newest first: extending copies nothing


class Restorer:
    """Beam search over the marked forms of each syllable, scored by a :class:`SyllableLM`."""

    def __init__(
        self,
        lm: SyllableLM,
        context: ContextModel | None = None,
        beam: int = BEAM,
        margin: float = MARGIN,
        weight: float = WEIGHT,
    ) -> None:
        """``context``: the observed-context model (none: the LM alone); ``beam``: hypotheses
        kept after each syllable; ``margin``: those more than this (natural log) below the best
        are dropped as well, which saves most of the work on easy text; ``weight``: of the
        context model's log probability."""
        if beam < 1 or margin <= 0 or weight < 0:
            raise InputError("beam must be at least 1, margin positive and weight not negative")
        self.lm, self.context, self.beam, self.margin = lm, context, beam, margin
        self.weight = weight if context is not None else 0.0
        self.prune = PRUNE
        self._context = lm.order - 1
        self._memo: dict[tuple[tuple[str, ...], str], float] = {}
        forms: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for word in lm.vocabulary:
            key = base_letters(word)
            # only forms that map letter for letter onto their base letters can be restored in place
            if len(word) == len(key) and unicodedata.is_normalized("NFC", word):
                forms[key].append((-lm.logprob(_UNSEEN, word), word))
        # most probable first (by the LM's unigram level): ties then go to the commoner form
        self._candidates = {key: tuple(w for _, w in sorted(ws)) for key, ws in forms.items()}

    @classmethod
    def train(
        cls,
        sentences: Iterable[str],
        order: int = 3,
        discount: float = 0.75,
        beam: int = BEAM,
        margin: float = MARGIN,
        weight: float = WEIGHT,
    ) -> Restorer:
        """Train the LM and the context model on correctly marked sentences; the candidate forms
        are the LM's vocabulary. ``weight=0`` leaves the context model out."""
        sentences = list(sentences)
        try:
            lm = SyllableLM.train(sentences, order=order, discount=discount)
        except InputError as exc:
            raise InputError(f"cannot train a diacritics restorer: {exc.message}") from exc
        context = ContextModel.train(sentences) if weight > 0 else None
        return cls(lm, context, beam=beam, margin=margin, weight=weight)

    def save(self, path: Path) -> None:
        """Gzipped JSON: the LM's file body and the context model's counts."""
        body = {"format": FORMAT, "lm": self.lm.to_json(), "weight": self.weight}
        if self.context is not None:
            body["context"] = self.context.counts
        tmp = path.with_name(f".{path.name}.part")
        with gzip.open(tmp, "wt", encoding="utf-8") as handle:
            json.dump(body, handle, ensure_ascii=False)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, beam: int = BEAM, margin: float = MARGIN) -> Restorer:
        """A restorer file, or a plain syllable LM file (then the LM alone restores)."""
        if not path.is_file():
            raise InputError(f"no diacritics restorer model at {path}")
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                body = json.load(handle)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path} is not a diacritics restorer model: {exc}") from exc
        try:
            if isinstance(body, dict) and body.get("format") == FORMAT:
                context = body.get("context")
                return cls(
                    SyllableLM.from_json(body["lm"]),
                    None if context is None else ContextModel(context),
                    beam=beam,
                    margin=margin,
                    weight=float(body["weight"]),
                )
            return cls(SyllableLM.load(path), beam=beam, margin=margin)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{path} is not a diacritics restorer model: {exc!r}") from exc

    def candidates(self, syllable: str) -> tuple[str, ...]:
        """The lower-case forms the search may choose for one token (itself when unknown)."""
        lower = syllable.lower()
        key = base_letters(lower)
        if key != lower or len(lower) != len(syllable):
            return (lower,)  # it already carries marks (kept as typed) or cannot map back in place
        return self._candidates.get(key, (lower,))

    def _search(self, tokens: Sequence[str]) -> list[str]:
        """The most probable choice of forms for a token sequence (as typed)."""
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        memo, logprob, keep = self._memo, self.lm.logprob, self._context
        context, weight = self.context, self.weight
        feats = features(tokens) if context is not None and weight else []
        # a hypothesis: its LM state (the last order-1 forms), score and chosen forms
        hyps: list[tuple[tuple[str, ...], float, _Chain]] = [((), 0.0, None)]
        for i, token in enumerate(tokens):
            options = self.candidates(token)
            bonus: Sequence[float] = (0.0,) * len(options)
            if feats and len(options) > 1:
                assert context is not None
                probs = context.probabilities(feats, i, options)
                # forms the context model finds far less likely than its best are not tried
                floor = max(probs) * self.prune
                kept = [
                    (w, weight * math.log(p))
                    for w, p in zip(options, probs, strict=True)
                    if p >= floor
                ]
                options, bonus = tuple(w for w, _ in kept), [b for _, b in kept]
            merged: dict[tuple[str, ...], tuple[float, _Chain]] = {}
            for state, score, path in hyps:
                for word, extra in zip(options, bonus, strict=True):
                    lp = memo.get((state, word))
                    if lp is None:
                        lp = memo[state, word] = logprob(state, word)
                    lp += extra
                    after = (*state, word)[-keep:] if keep else ()
                    best = merged.get(after)
                    if best is None or score + lp > best[0]:
                        merged[after] = (score + lp, (word, path))
            ranked = sorted(merged.items(), key=lambda item: -item[1][0])[: self.beam]
            floor = ranked[0][1][0] - self.margin
            hyps = [(state, score, path) for state, (score, path) in ranked if score >= floor]
        chain = max(hyps, key=lambda h: h[1] + logprob(h[0], EOS))[2]
        words: list[str] = []
        while chain is not None:
            words.append(chain[0])
            chain = chain[1]
        return words[::-1]

    def _restore_line(self, line: str) -> str:
        matches = list(TOKEN.finditer(line))
        if not matches:
            return line
        # a new sentence starts after . ! ? or an ellipsis: the LM context restarts
        chosen = [word for tokens in segments(line) for word in self._search(tokens)]
        out: list[str] = []
        end = 0
        for match, word in zip(matches, chosen, strict=True):
            out.append(line[end : match.start()])
            typed = match.group()
            if word == typed.lower():
                out.append(typed)
            else:
                out.append("".join(_like(c, t) for c, t in zip(word, typed, strict=True)))
            end = match.end()
        out.append(line[end:])
        return "".join(out)

    def restore(self, text: str) -> str:
        """Put the marks back on ``text`` (NFC), line by line; case and punctuation kept."""
        parts = _LINE.split(unicodedata.normalize("NFC", text))
        return "".join(p if i % 2 else self._restore_line(p) for i, p in enumerate(parts))

    def restore_many(self, lines: Iterable[str]) -> list[str]:
        return [self.restore(line) for line in lines]


def _like(letter: str, typed: str) -> str:
    """``letter`` in the case of the ``typed`` letter it replaces."""
    if typed.isupper():
        upper = letter.upper()
        return upper if len(upper) == 1 else letter
    return letter


def default_restorer(cache_dir: Path) -> Restorer:
    """The restorer of the package corpus (``corpus/train.txt``): a trigram LM and the context
    model, trained in about a second, then cached in ``cache_dir``."""
    path = corpus_cache(cache_dir, "restorer")
    if path.is_file():
        return Restorer.load(path)
    restorer = Restorer.train(corpus_sentences("train"), order=3)
    cache_dir.mkdir(parents=True, exist_ok=True)
    restorer.save(path)
    return restorer


@dataclass(frozen=True)
class RestoreScore:
    syllables: int
    correct: int
    accuracy: float
    sentences_per_s: float


def evaluate_restorer(restorer: Restorer, sentences: Sequence[str]) -> RestoreScore:
    """Syllable accuracy of restoring ``sentences`` after their marks are stripped.

    A syllable is a normalized token with at least one letter (numbers are not counted); it is
    correct when its restored form equals the reference form, case aside. The speed is the whole
    restoring pass, single-threaded.
    """
    references = [s for s in sentences if normalize_transcript(s)]
    if not references:
        raise InputError("no sentences to evaluate the restorer on")
    stripped = [strip_diacritics(s) for s in references]
    started = time.perf_counter()
    restored = restorer.restore_many(stripped)
    elapsed = time.perf_counter() - started
    syllables = correct = 0
    for reference, output in zip(references, restored, strict=True):
        ref_words = normalize_transcript(reference).split()
        out_words = normalize_transcript(output).split()
        for ref, out in zip(ref_words, out_words, strict=False):
            if any(c.isalpha() for c in ref):
                syllables += 1
                correct += ref == out
        syllables += sum(any(c.isalpha() for c in w) for w in ref_words[len(out_words) :])
    return RestoreScore(
        syllables=syllables,
        correct=correct,
        accuracy=correct / syllables if syllables else 0.0,
        sentences_per_s=len(references) / elapsed if elapsed > 0 else float("inf"),
    )

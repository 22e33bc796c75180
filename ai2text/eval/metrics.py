"""Error rates over a set of utterances, after the shared transcript normalization.

- WER: word (syllable) edits / reference words.
- CER: character edits / reference characters (spaces included).
- Tone error rate: aligned syllables whose base letters and vowel marks match the reference but
  whose tone differs, / reference syllables.
- Diacritic error rate: aligned syllables whose base letters match but whose tone or vowel marks
  differ, / reference syllables (so every tone error is also a diacritic error).

Totals are summed over utterances before dividing (corpus-level rates, as in NeMo and jiwer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ai2text.text.syllables import base_letters, strip_tone
from ai2text.text.transcript import normalize_transcript


def align(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[str | None, str | None]]:
    """A minimum-edit alignment: pairs (ref, hyp) with None for insertions and deletions."""
    rows, cols = len(ref) + 1, len(hyp) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i][j] = min(
                cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]),
                cost[i - 1][j] + 1,
                cost[i][j - 1] + 1,
            )
    pairs: list[tuple[str | None, str | None]] = []
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append((ref[i - 1], None))
            i -= 1
        else:
            pairs.append((None, hyp[j - 1]))
            j -= 1
    pairs.reverse()
    return pairs


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j - 1] + (r != h), previous[j] + 1, current[j - 1] + 1))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class UtteranceScore:
    ref_words: int
    word_edits: int
    ref_chars: int
    char_edits: int
    tone_errors: int
    diacritic_errors: int

    @property
    def wer(self) -> float:
        return self.word_edits / max(1, self.ref_words)

    @property
    def cer(self) -> float:
        return self.char_edits / max(1, self.ref_chars)


def score_utterance(reference: str, hypothesis: str) -> UtteranceScore:
    ref, hyp = normalize_transcript(reference), normalize_transcript(hypothesis)
    ref_words, hyp_words = ref.split(), hyp.split()
    tone = diacritic = 0
    for r, h in align(ref_words, hyp_words):
        if r is None or h is None or r == h or base_letters(r) != base_letters(h):
            continue
        diacritic += 1
        tone += strip_tone(r) == strip_tone(h)
    return UtteranceScore(
        ref_words=len(ref_words),
        word_edits=edit_distance(ref_words, hyp_words),
        ref_chars=len(ref),
        char_edits=edit_distance(ref, hyp),
        tone_errors=tone,
        diacritic_errors=diacritic,
    )


@dataclass(frozen=True)
class CorpusScore:
    utterances: int
    wer: float
    cer: float
    tone_error_rate: float
    diacritic_error_rate: float

    def to_json(self) -> dict[str, float | int]:
        return {
            "utterances": self.utterances,
            "wer": round(self.wer, 4),
            "cer": round(self.cer, 4),
            "tone_error_rate": round(self.tone_error_rate, 4),
            "diacritic_error_rate": round(self.diacritic_error_rate, 4),
        }


def score_corpus(scores: Sequence[UtteranceScore]) -> CorpusScore:
    words = max(1, sum(s.ref_words for s in scores))
    return CorpusScore(
        utterances=len(scores),
        wer=sum(s.word_edits for s in scores) / words,
        cer=sum(s.char_edits for s in scores) / max(1, sum(s.ref_chars for s in scores)),
        tone_error_rate=sum(s.tone_errors for s in scores) / words,
        diacritic_error_rate=sum(s.diacritic_errors for s in scores) / words,
    )

"""CTC decoding: greedy and prefix beam search (with optional syllable-LM shallow fusion), and
word timestamps and confidences from a Viterbi forced alignment of the chosen tokens.

Input is one utterance's log posteriors, shape (frames, labels + 1) with the blank last. Times are
frame indices times the model's frame duration (40 ms for 4x subsampling of 10 ms features).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ai2text.asr.vocabulary import Vocabulary
from ai2text.text.syllable_lm import EOS, SyllableLM

LogProbs = npt.NDArray[np.float32]
NEG_INF = float("-inf")


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Decoded:
    text: str
    words: list[Word]
    confidence: float


@dataclass(frozen=True)
class BeamOptions:
    beam_size: int = 8
    lm_weight: float = 0.5
    word_bonus: float = 1.0
    token_prune: float = 10.0  # skip tokens this many nats below the frame's best


def greedy_tokens(log_probs: LogProbs, blank: int) -> list[int]:
    best = log_probs.argmax(axis=1)
    tokens: list[int] = []
    previous = blank
    for token in best.tolist():
        if token != previous and token != blank:
            tokens.append(token)
        previous = token
    return tokens


def _logaddexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    high, low = (a, b) if a > b else (b, a)
    return high + math.log1p(math.exp(low - high))


@dataclass
class _LmState:
    score: float
    words: tuple[str, ...]
    partial: str


def beam_search_tokens(
    log_probs: LogProbs,
    vocabulary: Vocabulary,
    options: BeamOptions,
    lm: SyllableLM | None = None,
) -> list[int]:
    """CTC prefix beam search; with ``lm``, each completed syllable adds weight * log P + bonus."""
    blank = vocabulary.blank
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}
    lm_states: dict[tuple[int, ...], _LmState] = {(): _LmState(0.0, (), "")}

    def lm_state(prefix: tuple[int, ...]) -> _LmState:
        state = lm_states.get(prefix)
        if state is not None:
            return state
        parent = lm_state(prefix[:-1])
        token = prefix[-1]
        piece = vocabulary.labels[token]
        boundary = vocabulary.is_separator(token) or vocabulary.starts_word(token)
        state = parent
        if boundary and parent.partial:
            gain = options.word_bonus
            if lm is not None:
                gain += options.lm_weight * lm.logprob(parent.words, parent.partial)
            state = _LmState(parent.score + gain, (*parent.words, parent.partial), "")
        if vocabulary.kind == "bpe":
            piece = piece.lstrip("\u2581")
        if not vocabulary.is_separator(token):
            state = _LmState(state.score, state.words, state.partial + piece)
        lm_states[prefix] = state
        return state

    for frame in log_probs:
        top = float(frame.max())
        candidates = np.nonzero(frame >= top - options.token_prune)[0].tolist()
        following: dict[tuple[int, ...], list[float]] = {}
        for prefix, (p_blank, p_token) in beams.items():
            total = _logaddexp(p_blank, p_token)
            last = prefix[-1] if prefix else None
            for token in candidates:
                p = float(frame[token])
                if token == blank:
                    entry = following.setdefault(prefix, [NEG_INF, NEG_INF])
                    entry[0] = _logaddexp(entry[0], total + p)
                elif token == last:
                    extended = following.setdefault((*prefix, token), [NEG_INF, NEG_INF])
                    extended[1] = _logaddexp(extended[1], p_blank + p)
                    same = following.setdefault(prefix, [NEG_INF, NEG_INF])
                    same[1] = _logaddexp(same[1], p_token + p)
                else:
                    extended = following.setdefault((*prefix, token), [NEG_INF, NEG_INF])
                    extended[1] = _logaddexp(extended[1], total + p)
        ranked = sorted(
            following.items(),
            key=lambda item: _logaddexp(*item[1]) + lm_state(item[0]).score,
            reverse=True,
        )
        beams = {prefix: (scores[0], scores[1]) for prefix, scores in ranked[: options.beam_size]}

    def final(prefix: tuple[int, ...]) -> float:
        state = lm_state(prefix)
        score = _logaddexp(*beams[prefix]) + state.score
        words = state.words
        if state.partial:
            score += options.word_bonus
            if lm is not None:
                score += options.lm_weight * lm.logprob(words, state.partial)
            words = (*words, state.partial)
        if lm is not None:
            score += options.lm_weight * lm.logprob(words, EOS)
        return score

    best = max(beams, key=final)
    return list(best)


def force_align(log_probs: LogProbs, tokens: Sequence[int], blank: int) -> list[tuple[int, int]]:
    """The frames (first, last) each token occupies on the most likely CTC path."""
    if not tokens:
        return []
    states = [blank]
    for token in tokens:
        states += [token, blank]
    n_states, n_frames = len(states), log_probs.shape[0]
    emit = log_probs[:, states]  # (frames, states)
    score = np.full(n_states, -np.inf)
    score[0], score[1] = emit[0, 0], emit[0, 1]
    back = np.zeros((n_frames, n_states), dtype=np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    skip_ok = np.array(
        [s >= 2 and states[s] != blank and states[s] != states[s - 2] for s in range(n_states)]
    )
    for t in range(1, n_frames):
        from_prev = np.concatenate(([-np.inf], score[:-1]))
        from_skip = np.where(skip_ok, np.concatenate(([-np.inf, -np.inf], score[:-2])), -np.inf)
        stacked = np.stack([score, from_prev, from_skip])
        back[t] = stacked.argmax(axis=0)
        score = stacked.max(axis=0) + emit[t]
    state = n_states - 1 if score[-1] >= score[-2] else n_states - 2
    path = np.empty(n_frames, dtype=np.int64)
    for t in range(n_frames - 1, -1, -1):
        path[t] = state
        state -= int(back[t, state])
    spans: list[tuple[int, int]] = []
    for index in range(len(tokens)):
        frames = np.nonzero(path == 2 * index + 1)[0]
        spans.append((int(frames[0]), int(frames[-1])))
    return spans


def words_from_tokens(
    log_probs: LogProbs, tokens: Sequence[int], vocabulary: Vocabulary, frame_s: float
) -> Decoded:
    """Group aligned tokens into words with start, end and a confidence in [0, 1]."""
    if len(tokens) > log_probs.shape[0]:
        tokens = tokens[: log_probs.shape[0]]
    spans = force_align(log_probs, tokens, vocabulary.blank)
    words: list[Word] = []
    pieces: list[str] = []
    frames: list[tuple[int, int]] = []
    probs: list[float] = []

    def flush() -> None:
        if pieces:
            word = "".join(pieces)
            confidence = float(np.exp(np.mean(probs)))
            start, end = frames[0][0] * frame_s, (frames[-1][1] + 1) * frame_s
            words.append(Word(word, round(start, 3), round(end, 3), round(confidence, 4)))
        pieces.clear()
        frames.clear()
        probs.clear()

    for token, (first, last) in zip(tokens, spans, strict=True):
        if vocabulary.is_separator(token):
            flush()
            continue
        piece = vocabulary.labels[token]
        if vocabulary.starts_word(token):
            flush()
            piece = piece.lstrip("\u2581")
        if piece:
            pieces.append(piece)
            frames.append((first, last))
            probs.append(float(log_probs[first : last + 1, token].max()))
    flush()
    confidence = float(np.mean([w.confidence for w in words])) if words else 0.0
    return Decoded(" ".join(w.word for w in words), words, round(confidence, 4))

from __future__ import annotations

import numpy as np
import pytest

from ai2text.asr.ctc import (
    BeamOptions,
    beam_search_tokens,
    force_align,
    greedy_tokens,
    words_from_tokens,
)
from ai2text.asr.vocabulary import char_vocabulary, out_of_vocabulary, vietnamese_characters
from ai2text.text.syllable_lm import SyllableLM

VOCAB = char_vocabulary()
INDEX = {label: i for i, label in enumerate(VOCAB.labels)}
FRAME_S = 0.04


def posteriors(path: str, sure: float = 0.9) -> np.ndarray:
    """Log posteriors whose best path spells ``path`` ('_' is blank), one character a frame."""
    size = len(VOCAB.labels) + 1
    frames = np.full((len(path), size), (1 - sure) / (size - 1))
    for t, char in enumerate(path):
        frames[t, VOCAB.blank if char == "_" else INDEX[char]] = sure
    return np.log(frames).astype(np.float32)


def test_vocabulary_holds_every_toned_vowel_once() -> None:
    labels = vietnamese_characters()
    assert len(labels) == len(set(labels)) == 2 + 33 + 60
    assert {"ạ", "ằ", "ẩ", "ễ", "ỗ", "ợ", "ữ", "ỵ", "đ"} <= set(labels)
    assert out_of_vocabulary("xin chào 2024", VOCAB) == {"2", "0", "4"}


def test_greedy_collapses_repeats_and_blanks() -> None:
    log_probs = posteriors("__xx_in__ c_hh_àà_o__")
    tokens = greedy_tokens(log_probs, VOCAB.blank)
    assert VOCAB.text(tokens) == "xin chào"
    assert VOCAB.text(greedy_tokens(posteriors("_aa_a_"), VOCAB.blank)) == "aa"


def test_words_have_monotonic_times_inside_the_audio() -> None:
    log_probs = posteriors("__xx_in__ c_hh_àà_o___ b_ạ_nn__")
    decoded = words_from_tokens(log_probs, greedy_tokens(log_probs, VOCAB.blank), VOCAB, FRAME_S)
    assert [w.word for w in decoded.words] == ["xin", "chào", "bạn"]
    duration = log_probs.shape[0] * FRAME_S
    previous_end = 0.0
    for word in decoded.words:
        assert previous_end <= word.start < word.end <= duration
        assert 0.8 < word.confidence <= 1.0
        previous_end = word.end
    assert decoded.words[0].start == pytest.approx(2 * FRAME_S)


def test_force_align_spans_are_ordered() -> None:
    log_probs = posteriors("_ab__b_c")
    tokens = [INDEX["a"], INDEX["b"], INDEX["b"], INDEX["c"]]
    spans = force_align(log_probs, tokens, VOCAB.blank)
    assert spans == [(1, 1), (2, 2), (5, 5), (7, 7)]


def test_beam_without_lm_matches_greedy_on_clear_audio() -> None:
    log_probs = posteriors("_tt_ôi_ đ_i_ h_ọ_c__")
    beam = beam_search_tokens(log_probs, VOCAB, BeamOptions(beam_size=4), lm=None)
    assert VOCAB.text(beam) == VOCAB.text(greedy_tokens(log_probs, VOCAB.blank)) == "tôi đi học"


def test_the_lm_fixes_an_ambiguous_tone() -> None:
    lm = SyllableLM.train(["tôi đi học", "tôi đi làm", "em đi học", "chúng tôi đi học bài"] * 3)
    log_probs = posteriors("_tt_ôi_ đ_i_ h_ọ_c__")
    # the acoustic model hesitates between học and hộc, slightly preferring the wrong one
    t = "_tt_ôi_ đ_i_ h_ọ_c__".index("ọ")
    log_probs[t, INDEX["ọ"]] = np.log(0.45)
    log_probs[t, INDEX["ộ"]] = np.log(0.5)
    assert VOCAB.text(greedy_tokens(log_probs, VOCAB.blank)) == "tôi đi hộc"
    plain = beam_search_tokens(log_probs, VOCAB, BeamOptions(beam_size=8))
    fused = beam_search_tokens(log_probs, VOCAB, BeamOptions(beam_size=8, lm_weight=1.0), lm=lm)
    assert VOCAB.text(plain) == "tôi đi hộc"
    assert VOCAB.text(fused) == "tôi đi học"


def test_bpe_pieces_group_into_words() -> None:
    from ai2text.asr.vocabulary import Vocabulary

    bpe = Vocabulary(("<unk>", "\u2581xin", "\u2581ch", "ào", "\u2581bạn"), "bpe")
    size = len(bpe.labels) + 1
    path = [5, 1, 5, 2, 3, 5, 4]  # blank, ▁xin, blank, ▁ch, ào, blank, ▁bạn
    frames = np.full((len(path), size), 0.01 / (size - 1))
    for t, token in enumerate(path):
        frames[t, token] = 0.99
    log_probs = np.log(frames).astype(np.float32)
    tokens = greedy_tokens(log_probs, bpe.blank)
    decoded = words_from_tokens(log_probs, tokens, bpe, 0.08)
    assert [w.word for w in decoded.words] == ["xin", "chào", "bạn"]
    assert bpe.text(tokens) == "xin chào bạn"
    assert decoded.words[1].start == pytest.approx(3 * 0.08)

from __future__ import annotations

import pytest

from ai2text.eval.metrics import align, edit_distance, score_corpus, score_utterance


def test_identical_after_normalization_scores_zero() -> None:
    score = score_utterance("Xin chào, Việt Nam!", "xin chào việt nam")
    assert (score.wer, score.cer, score.tone_errors, score.diacritic_errors) == (0, 0, 0, 0)


def test_word_and_character_edits() -> None:
    score = score_utterance("tôi đi học", "tôi học bài")  # delete đi, insert bài
    assert score.word_edits == 2 and score.ref_words == 3
    assert score.char_edits == edit_distance("tôi đi học", "tôi học bài")


def test_tone_and_vowel_mark_errors_are_told_apart() -> None:
    # mà -> má: tone only; mơ -> mớ: tone only; mơ -> mở? tone; ân -> ăn: vowel mark, not tone
    score = score_utterance("mà mơ ân đường", "má mớ ăn duong")
    assert score.ref_words == 4 and score.word_edits == 4
    assert score.tone_errors == 2  # mà/má, mơ/mớ
    assert score.diacritic_errors == 4  # plus ân/ăn and đường/duong
    other = score_utterance("nhà", "nhanh")  # different letters: neither
    assert other.tone_errors == other.diacritic_errors == 0


def test_corpus_rates_sum_before_dividing() -> None:
    corpus = score_corpus(
        [score_utterance("một hai", "một ba"), score_utterance("a b c d", "a b c d")]
    )
    assert corpus.wer == pytest.approx(1 / 6)
    assert corpus.utterances == 2


def test_alignment_marks_insertions_and_deletions() -> None:
    assert align(["a", "b", "c"], ["a", "c"]) == [("a", "a"), ("b", None), ("c", "c")]
    assert align(["a", "c"], ["x", "a", "c"]) == [(None, "x"), ("a", "a"), ("c", "c")]
    assert align(["a", "b"], ["a", "x"]) == [("a", "a"), ("b", "x")]

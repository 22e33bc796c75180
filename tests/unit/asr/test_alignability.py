from __future__ import annotations

from ai2text.asr.alignability import (
    char_tokenizer,
    check_utterances,
    frames_available,
    frames_needed,
)
from ai2text.asr.vocabulary import char_vocabulary

TOKENIZE = char_tokenizer(char_vocabulary())


def test_repeats_need_a_blank_between() -> None:
    assert frames_needed([1, 2, 3]) == 3
    assert frames_needed([1, 1, 2, 2, 2]) == 8
    assert frames_available(1.0, 0.04) == 25 and frames_available(1.0, 0.08) == 12


def test_the_frame_rate_decides_what_can_be_aligned() -> None:
    # espeak-ng's pace: 16 characters a second of speech
    text = "hôm nay trời đẹp quá bạn ơi"  # 27 characters
    utterance = [("a.wav", text, 27 / 16)]
    usable_4x, report_4x = check_utterances(utterance, TOKENIZE, frame_s=0.04)
    usable_8x, report_8x = check_utterances(utterance, TOKENIZE, frame_s=0.08)
    assert usable_4x == [0] and report_4x.unalignable == []
    assert usable_8x == [] and len(report_8x.unalignable) == 1
    assert "needs 27 frames, has 21" in report_8x.unalignable[0].reason


def test_out_of_vocabulary_is_reported_not_dropped() -> None:
    usable, report = check_utterances(
        [("a.wav", "xin chào", 2.0), ("b.wav", "năm 2024", 2.0)], TOKENIZE, frame_s=0.04
    )
    assert usable == [0]
    assert report.to_json()["out_of_vocabulary"] == 1
    assert report.total == 2 and report.usable == 1

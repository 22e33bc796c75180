"""Pure parts of search and audio serving: rank fusion, match positions, snippets, byte ranges,
and the speaker of an intake path."""

from __future__ import annotations

import uuid

import pytest

from ai2text.errors import RangeError
from ai2text.pipeline.intake import speaker_of
from ai2text.search.hybrid import RRF_K, _match_positions, _snippet, fuse
from ai2text.store.recordings import byte_range

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    scores = fuse([[A, B], [B, C]])
    assert scores[B] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert scores[A] == pytest.approx(1 / (RRF_K + 1))
    assert max(scores, key=scores.__getitem__) == B
    weighted = fuse([[A], [B]], [1.0, 0.5])
    assert weighted[A] == pytest.approx(2 * weighted[B])


def test_a_phrase_match_wins_over_scattered_terms() -> None:
    words = ["chao", "ban", "xin", "chao", "cac", "ban"]
    assert _match_positions(words, ["xin", "chao"]) == [2, 3]
    assert _match_positions(words, ["ban", "xin", "nua"]) == [1, 2]  # first of each, in order
    assert _match_positions(words, ["khong"]) == []


def test_snippets_keep_marks_and_cut_at_syllables() -> None:
    text = "Hôm qua " + "rất " * 30 + "xin chào các bạn " + "nhé " * 30
    snippet = _snippet(text, ["xin", "chao"])
    assert "xin chào các bạn" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert all(part in ("…", "rất", "nhé", "xin", "chào", "các", "bạn")
               for part in snippet.replace("…", " … ").split())  # fmt: skip
    assert _snippet("ngắn thôi", ["khong"]) == "ngắn thôi"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-10", (990, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole body
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-2", "items=0-1", "bytes=-", "bytes=x-"])
def test_unsatisfiable_or_malformed_ranges_are_refused(header: str) -> None:
    with pytest.raises(RangeError):
        byte_range(header, 1000)


def test_the_first_folder_names_the_speaker() -> None:
    assert speaker_of("spk-1/clip.wav") == "spk-1"
    assert speaker_of("spk-1/day2/clip.wav") == "spk-1"
    assert speaker_of("clip.wav") is None

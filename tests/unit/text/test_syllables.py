from __future__ import annotations

import pytest

from ai2text.text.syllables import base_letters, strip_tone, tone_of


@pytest.mark.parametrize(
    ("syllable", "tone", "toneless", "base"),
    [
        ("ma", "ngang", "ma", "ma"),
        ("mà", "huyền", "ma", "ma"),
        ("má", "sắc", "ma", "ma"),
        ("mả", "hỏi", "ma", "ma"),
        ("mã", "ngã", "ma", "ma"),
        ("mạ", "nặng", "ma", "ma"),
        ("đường", "huyền", "đương", "duong"),
        ("Việt", "nặng", "Viêt", "Viet"),
        ("ắt", "sắc", "ăt", "at"),
    ],
)
def test_split(syllable: str, tone: str, toneless: str, base: str) -> None:
    assert (tone_of(syllable), strip_tone(syllable), base_letters(syllable)) == (
        tone,
        toneless,
        base,
    )

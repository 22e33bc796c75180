from __future__ import annotations

import unicodedata

import pytest

from ai2text.text.transcript import normalize_transcript


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Xin chào, Việt Nam!", "xin chào việt nam"),
        ("  Hôm   nay\ttrời đẹp quá...  ", "hôm nay trời đẹp quá"),
        ("Anh ấy nói: “Được rồi” \u2013 rồi đi.", "anh ấy nói được rồi rồi đi"),
        ("Quốc lộ 1A", "quốc lộ 1a"),
        ("Đà Nẵng", "đà nẵng"),
    ],
)
def test_normalize(raw: str, clean: str) -> None:
    assert normalize_transcript(raw) == clean


def test_decomposed_input_becomes_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "tiếng Việt")
    assert normalize_transcript(decomposed) == "tiếng việt"
    assert unicodedata.is_normalized("NFC", normalize_transcript(decomposed))

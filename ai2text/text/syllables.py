"""Vietnamese syllables split into base letters, vowel marks and tone.

A written syllable carries at most one tone mark (huyền, sắc, hỏi, ngã, nặng; none is ngang) and
vowel marks (the circumflex of â ê ô, the breve of ă, the horn of ơ ư, and the stroke of đ). Small
models confuse tones most; this split lets evaluation count those errors apart from wrong letters.
"""

from __future__ import annotations

import unicodedata

TONE_MARKS = {
    "\u0300": "huyền",
    "\u0301": "sắc",
    "\u0309": "hỏi",
    "\u0303": "ngã",
    "\u0323": "nặng",
}
VOWEL_MARKS = frozenset({"\u0302", "\u0306", "\u031b"})


def tone_of(syllable: str) -> str:
    """The syllable's tone name; ``"ngang"`` when it has no tone mark."""
    for char in unicodedata.normalize("NFD", syllable):
        if char in TONE_MARKS:
            return TONE_MARKS[char]
    return "ngang"


def strip_tone(syllable: str) -> str:
    """The syllable without its tone mark, vowel marks kept (NFC)."""
    kept = (c for c in unicodedata.normalize("NFD", syllable) if c not in TONE_MARKS)
    return unicodedata.normalize("NFC", "".join(kept))


def base_letters(syllable: str) -> str:
    """The syllable with every mark removed: ``"đường"`` -> ``"duong"``."""
    decomposed = unicodedata.normalize("NFD", syllable.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def strip_diacritics(text: str) -> str:
    """Text with every mark removed, case, punctuation and spacing kept (NFC):
    ``"Đường về, nhà!"`` -> ``"Duong ve, nha!"``."""
    return unicodedata.normalize("NFC", base_letters(text))

"""The one normalization shared by training targets and evaluation: NFC, lower case, punctuation
removed, whitespace collapsed. Spoken-form rewriting (numbers, dates) is not done here."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w']+|_")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def normalize_transcript(text: str) -> str:
    """``"Xin chào, Việt Nam!"`` -> ``"xin chào việt nam"``."""
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).lower()
    words = (w.strip("'") for w in _NOT_WORD.split(text))
    return " ".join(w for w in words if w)

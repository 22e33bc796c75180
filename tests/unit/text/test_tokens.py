"""Search helpers: folding keeps offsets, syllables carry them, words come from collocations."""

from __future__ import annotations

import unicodedata

from ai2text.text.corpus import corpus_sentences
from ai2text.text.tokens import default_lexicon, fold, learn_lexicon, segment, syllables


def test_fold_drops_marks_and_keeps_every_offset() -> None:
    assert fold("Tiếng Việt, ĐƯỜNG phố!") == "tieng viet, duong pho!"
    for sentence in corpus_sentences("heldout"):
        nfc = unicodedata.normalize("NFC", sentence)
        folded = fold(unicodedata.normalize("NFD", sentence))
        assert len(folded) == len(nfc) and all(c.isascii() for c in folded if c.isalpha())
        for span in syllables(sentence):
            assert folded[span.start : span.end] == fold(span.text)


def test_syllables_have_offsets_into_the_nfc_text() -> None:
    text = unicodedata.normalize("NFD", "Xin chào, Việt Nam 2024!")
    spans = syllables(text)
    nfc = unicodedata.normalize("NFC", text)
    assert [s.text for s in spans] == ["Xin", "chào", "Việt", "Nam", "2024"]
    assert all(nfc[s.start : s.end] == s.text for s in spans)


def test_collocations_become_words() -> None:
    cities = ["Hồ Chí Minh"] * 3 + ["Hà Nội", "Huế", "Đà Nẵng", "Cần Thơ"]
    corpus = [f"tôi yêu thành phố {city}" for city in cities] + ["ở đây rất vui", "tôi vui"]
    lexicon = learn_lexicon(corpus, min_count=3, min_pmi=1.0)
    assert {"thành phố", "hồ chí minh"} <= lexicon and "ở đây" not in lexicon
    tokens = ["Thành", "phố", "Hồ", "Chí", "Minh", "rất", "vui"]
    assert segment(tokens, lexicon) == ["Thành phố", "Hồ Chí Minh", "rất", "vui"]
    assert learn_lexicon([]) == frozenset()


def test_default_lexicon_segments_everyday_text() -> None:
    tokens = [s.text for s in syllables("Người dân Việt Nam rất thân thiện")]
    assert segment(tokens, default_lexicon()) == ["Người dân", "Việt Nam", "rất", "thân thiện"]

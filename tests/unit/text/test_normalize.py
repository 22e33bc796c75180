"""Normalization (written to spoken) and inverse normalization (spoken to written): properties
over generated cases, offsets of every correction, and the round trip."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from ai2text.config import TextSettings
from ai2text.text.itn import InverseNormalizer, ItnOptions, itn
from ai2text.text.normalize import NormalizeOptions, Normalizer, normalize
from ai2text.text.postprocess import conventions, postprocess
from ai2text.text.rewrite import Rewritten, apply_corrections

RNG = random.Random(11)


def _supported_cases(count: int) -> list[str]:
    """Random instances of every class normalization supports, inside sentences."""
    r = RNG
    makers = [
        lambda: str(r.randrange(0, 10**12)),
        lambda: f"{r.randrange(1, 999)}.{r.randrange(0, 1000):03d}.{r.randrange(0, 1000):03d}",
        lambda: f"-{r.randrange(1, 10**6)},{r.randrange(0, 10**3)}",
        lambda: f"{r.randrange(1, 29)}/{r.randrange(1, 13)}/{r.randrange(1000, 2100)}",
        lambda: (
            f"ngày {r.randrange(1, 29)} tháng {r.randrange(1, 13)} năm {r.randrange(1900, 2100)}"
        ),
        lambda: f"{r.randrange(0, 24)}:{r.randrange(0, 60):02d}",
        lambda: f"{r.randrange(0, 24)}h{r.randrange(0, 60):02d}",
        lambda: f"{r.randrange(1, 10**6)}{r.choice(['đ', '₫', '$', '€', ' VND', ' USD'])}",
        lambda: f"{r.randrange(1, 1000)}{r.choice(['tr', 'k'])}",
        lambda: f"{r.randrange(1, 5000)}{r.choice(['km', 'kg', 'm', 'cm', 'g', 'mg', 'ml', '%'])}",
        lambda: f"{r.randrange(1, 100)}°C",
        lambda: f"thứ {r.randrange(1, 200)}",
        lambda: f"thế kỷ {r.choice(['XV', 'XX', 'XXI', 'iv'])}",
        lambda: f"{r.randrange(1, 100)}/{r.randrange(2, 100)}",
        lambda: f"{r.randrange(1, 100)}kg-{r.randrange(100, 200)}kg",
        lambda: f"{r.randrange(1, 10**3)},{r.randrange(1, 100)} triệu",
    ]
    return [f"Có {r.choice(makers)()} người." for _ in range(count)]


def test_no_digits_remain_after_normalizing_supported_classes() -> None:
    for sentence in _supported_cases(3000):
        spoken = normalize(sentence)
        assert not re.search(r"\d", spoken), (sentence, spoken)


def _check_offsets(result: Rewritten) -> None:
    assert apply_corrections(result.source, result.corrections) == result.text
    previous_end = 0
    for fix in result.corrections:
        assert previous_end <= fix.start < fix.end <= len(result.source)
        assert result.source[fix.start : fix.end] == fix.original
        previous_end = fix.end


def test_corrections_point_into_the_nfc_input() -> None:
    decomposed = unicodedata.normalize("NFD", "Ngày 15/01/2024 lúc 14h30, giá 100$ tại TP.HCM")
    result = Normalizer().rewrite(decomposed)
    assert result.source == unicodedata.normalize("NFC", decomposed)
    _check_offsets(result)
    assert [c.kind for c in result.corrections] == ["date", "time", "money", "abbreviation"]
    assert result.text == (
        "Ngày mười lăm tháng một năm hai nghìn hai mươi tư lúc mười bốn giờ ba mươi phút, "
        "giá một trăm đô la tại thành phố Hồ Chí Minh"
    )
    for sentence in _supported_cases(300):
        _check_offsets(Normalizer().rewrite(sentence))
        _check_offsets(InverseNormalizer().rewrite(normalize(sentence)))


ROUND_TRIP = [
    "1234", "-25", "12,5", "0,05", "ngày 15 tháng 3 năm 2024", "tháng 4 năm 1975", "14:30",
    "8h", "5:20:35", "50$", "20€", "5 km", "12 kg", "50%", "thứ 21", "3/4", "460 triệu",
    "1,5 tỷ", "năm 2023", "lúc 6:05 sáng", "cao 175 cm", "tốc độ 120 km/h",
]  # fmt: skip


@pytest.mark.parametrize("written", ROUND_TRIP)
def test_itn_inverts_normalize(written: str) -> None:
    assert itn(normalize(written)) == written, normalize(written)


def test_lone_digits_and_ordinary_words_stay_words() -> None:
    text = "năm năm trước có một con mèo và hai con chó ở thứ hai"
    assert itn(text) == "năm năm trước có một con mèo và hai con chó ở thứ 2"
    assert itn("xin chào các bạn") == "xin chào các bạn"


def test_conventions_change_readings_and_written_forms() -> None:
    formal = NormalizeOptions(conventions(TextSettings(linh="lẻ", zero_hundreds=True)))
    assert Normalizer(formal).normalize("1001") == "một nghìn không trăm lẻ một"
    assert normalize("1001") == "một nghìn linh một"
    dotted = InverseNormalizer(ItnOptions(conventions(TextSettings(decimal_mark="."))))
    assert dotted.itn("ba phẩy năm") == "3.5" and itn("ba phẩy năm") == "3,5"


def test_fillers_are_dropped_only_when_asked() -> None:
    assert normalize("ừm tôi đi 2 km") == "ừm tôi đi hai ki lô mét"
    cleaned = Normalizer(NormalizeOptions(remove_fillers=True)).normalize("ừm tôi, ờ, đi 2 km")
    assert cleaned == "tôi, đi hai ki lô mét"


def test_postprocess_reports_what_it_changed() -> None:
    result = postprocess("ừm giá là hai mươi nghìn đồng lúc tám giờ rưỡi")
    _check_offsets(result)
    body = result.to_json()
    assert body["text_clean"] == "giá là 20000 đồng lúc 8:30"
    assert [c["kind"] for c in body["corrections"]] == ["filler", "money", "time"]
    assert body["corrections"][1] == {
        "start": 10, "end": 29, "original": "hai mươi nghìn đồng",
        "replacement": "20000 đồng", "kind": "money",
    }  # fmt: skip

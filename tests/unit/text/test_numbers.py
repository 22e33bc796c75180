"""Reading numbers aloud and parsing them back, under each reading convention."""

from __future__ import annotations

import random

import pytest

from ai2text.text.numbers import Conventions, parse_number, read_number, roman_value, to_roman


@pytest.mark.parametrize(
    ("value", "spoken"),
    [
        (0, "không"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (105, "một trăm linh năm"),
        (1001, "một nghìn linh một"),
        (1020, "một nghìn hai mươi"),
        (1001001101, "một tỷ một triệu một nghìn một trăm linh một"),
        (10**18, "một tỷ tỷ"),
        (-25, "âm hai mươi lăm"),
    ],
)
def test_default_readings(value: int, spoken: str) -> None:
    assert read_number(value) == spoken


def test_each_convention_is_a_setting() -> None:
    formal = Conventions(linh="lẻ", thousand="ngàn", billion="tỉ", four_after_tens="bốn",
                         zero_hundreds=True)  # fmt: skip
    assert read_number(1001, formal) == "một ngàn không trăm lẻ một"
    assert read_number(2_000_000_024, formal) == "hai tỉ không trăm hai mươi bốn"
    assert read_number(2_000_000_024) == "hai tỷ hai mươi tư"


@pytest.mark.parametrize(
    "conventions",
    [
        Conventions(),
        Conventions(
            linh="lẻ", thousand="ngàn", zero_hundreds=True, four_after_tens="bốn", billion="tỉ"
        ),
    ],
)
def test_parse_reads_back_every_reading(conventions: Conventions) -> None:
    rng = random.Random(7)
    values = [rng.randrange(10, 10 ** rng.randrange(2, 16)) for _ in range(3000)]
    for value in values:
        words = read_number(value, conventions).split()
        parsed = parse_number(words, 0)
        assert parsed is not None and parsed.end == len(words), words
        assert parsed.value == value, (value, words)


@pytest.mark.parametrize(
    ("spoken", "value", "used"),
    [
        ("hai mốt", 21, 2),  # the short form of hai mươi mốt
        ("một trăm hai", 120, 3),  # a lone digit after trăm is the tens
        ("một ngàn chín", 1900, 3),  # and after nghìn the hundreds
        ("năm ngàn rưỡi", 5500, 3),
        ("ba nghìn năm", 3000, 2),  # "năm" is left alone: it is also "year"
        ("năm năm", 5, 1),
    ],
)
def test_short_spoken_forms(spoken: str, value: int, used: int) -> None:
    parsed = parse_number(spoken.split(), 0)
    assert parsed is not None and (parsed.value, parsed.end) == (value, used)


def test_roman_numerals_round_trip_and_refuse_malformed() -> None:
    assert all(roman_value(to_roman(n)) == n for n in range(1, 4000))
    assert roman_value("XIV") == 14 and roman_value("mmxx") == 2020
    assert roman_value("IIII") is None and roman_value("IC") is None and roman_value("") is None

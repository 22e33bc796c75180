"""Vietnamese numbers, both ways: digits to spoken words and spoken words back to a value.

Reading a number has conventions that sources disagree on without either being wrong: ``linh``
or ``lẻ`` for a zero tens digit (101), ``nghìn`` or ``ngàn``, ``tỷ`` or ``tỉ``, ``tư`` or ``bốn``
after ``mươi`` (24), and whether an empty hundreds place inside a larger number is read
(``một nghìn không trăm linh một`` or ``một nghìn linh một``). :class:`Conventions` makes each a
setting; the parser accepts every variant. Normalization (:mod:`ai2text.text.normalize`) and
inverse normalization (:mod:`ai2text.text.itn`) are built on this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")


@dataclass(frozen=True)
class Conventions:
    """How numbers are read aloud; the defaults are NeMo's Vietnamese grammar's choices."""

    linh: str = "linh"  # or "lẻ": 101 -> một trăm linh một
    thousand: str = "nghìn"  # or "ngàn"
    billion: str = "tỷ"  # or "tỉ"
    four_after_tens: str = "tư"  # or "bốn": 24 -> hai mươi tư
    zero_hundreds: bool = False  # True: 1001 -> một nghìn không trăm linh một
    fraction_as_number: bool = False  # True: 3,14 -> ba phẩy mười bốn (not "một bốn")
    decimal_mark: str = ","  # what inverse normalization writes: 1,5 (Vietnamese) or 1.5


def _read_tens(n: int, conv: Conventions) -> str:
    tens, unit = divmod(n, 10)
    if tens == 0:
        return DIGITS[unit]
    head = "mười" if tens == 1 else f"{DIGITS[tens]} mươi"
    if unit == 0:
        return head
    if unit == 5:
        tail = "lăm"
    elif unit == 1 and tens > 1:
        tail = "mốt"
    elif unit == 4 and tens > 1:
        tail = conv.four_after_tens
    else:
        tail = DIGITS[unit]
    return f"{head} {tail}"


def _read_group(n: int, conv: Conventions, leading: bool) -> str:
    """0 < n < 1000; a non-leading group may read its empty hundreds place."""
    hundreds, rest = divmod(n, 100)
    if hundreds == 0 and leading:
        return _read_tens(rest, conv)
    if hundreds == 0 and not conv.zero_hundreds:
        return f"{conv.linh} {DIGITS[rest]}" if rest < 10 else _read_tens(rest, conv)
    head = f"{DIGITS[hundreds]} trăm"
    if rest == 0:
        return head
    if rest < 10:
        return f"{head} {conv.linh} {DIGITS[rest]}"
    return f"{head} {_read_tens(rest, conv)}"


def read_number(n: int, conv: Conventions = Conventions(), leading: bool = True) -> str:
    """``1050003`` -> ``một triệu năm mươi nghìn linh ba``; past 10^9 the billions are read
    recursively (``một nghìn tỷ``, ``một tỷ tỷ``)."""
    if n < 0:
        return f"âm {read_number(-n, conv)}"
    if n == 0:
        return DIGITS[0]
    parts: list[str] = []
    if n >= 10**9:
        high, n = divmod(n, 10**9)
        parts.append(f"{read_number(high, conv, leading)} {conv.billion}")
        leading = False
    for scale, word in ((10**6, "triệu"), (10**3, conv.thousand)):
        high, n = divmod(n, scale)
        if high:
            # only the units group says "linh": 1001001 is "một triệu một nghìn linh một"
            parts.append(f"{_read_group(high, conv, leading or not conv.zero_hundreds)} {word}")
            leading = False
    if n:
        parts.append(_read_group(n, conv, leading))
    return " ".join(parts)


def read_digits(digits: str) -> str:
    """Each digit on its own: ``"093"`` -> ``không chín ba``."""
    return " ".join(DIGITS[int(d)] for d in digits)


def read_decimal(integer: int, fraction: str, conv: Conventions = Conventions()) -> str:
    """``(-12, "5")`` -> ``âm mười hai phẩy năm`` (the fraction digit by digit)."""
    head = read_number(integer, conv)
    return f"{head} phẩy {read_digits(fraction)}" if fraction else head


_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def roman_value(text: str) -> int | None:
    """The value of a well-formed Roman numeral (either case), else None."""
    lowered = text.lower()
    if not lowered or any(c not in _ROMAN for c in lowered):
        return None
    total = 0
    for index, char in enumerate(lowered):
        value = _ROMAN[char]
        following = _ROMAN[lowered[index + 1]] if index + 1 < len(lowered) else 0
        total += -value if value < following else value
    return total if 0 < total < 4000 and to_roman(total) == lowered else None


def to_roman(n: int) -> str:
    out = []
    for value, letters in (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ):  # fmt: skip
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


# --- spoken words to values -------------------------------------------------------------------

UNIT_WORDS = {
    "không": 0, "một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7,
    "bẩy": 7, "tám": 8, "chín": 9,
}  # fmt: skip
# after a tens word or as a second digit only
TAIL_WORDS = {**UNIT_WORDS, "mốt": 1, "tư": 4, "lăm": 5, "nhăm": 5}
SCALE_WORDS = {"nghìn": 10**3, "ngàn": 10**3, "triệu": 10**6, "tỷ": 10**9, "tỉ": 10**9}
LINH_WORDS = frozenset({"linh", "lẻ"})


NAMED_SCALES = frozenset({"triệu", "tỷ", "tỉ"})  # kept as words by inverse normalization


@dataclass(frozen=True)
class Parsed:
    """A number read from words[start:end]. ``scales`` are the indexes of its scale words and
    ``fraction`` marks a trailing digit or ``rưỡi`` that stood for part of the last scale
    ("một triệu hai" is 1.2 triệu, "một ngàn chín" is 1900)."""

    value: int
    start: int
    end: int
    scales: tuple[int, ...] = ()
    fraction: bool = False


def _tens(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """A number below 100 at words[i:] and how many words it took."""
    if i >= len(words):
        return None
    word = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if word == "mười":
        if nxt in TAIL_WORDS and nxt not in ("không", "mốt", "tư"):
            return 10 + TAIL_WORDS[nxt], 2
        return 10, 1
    if word not in UNIT_WORDS or word == "không":
        return None
    digit = UNIT_WORDS[word]
    if nxt == "mươi":
        after = words[i + 2] if i + 2 < len(words) else ""
        if after in TAIL_WORDS and after != "không":
            return digit * 10 + TAIL_WORDS[after], 3
        return digit * 10, 2
    if digit >= 2 and nxt in TAIL_WORDS and nxt not in ("không", "một", "năm"):
        return digit * 10 + TAIL_WORDS[nxt], 2  # "hai mốt" = 21, "bốn ba" = 43
    return digit, 1


def _group(words: Sequence[str], i: int, inner: bool) -> tuple[int, int] | None:
    """A group below 1000 at words[i:] (``inner``: below a scale word, where ``không trăm`` and
    ``linh N`` may start it) and how many words it took."""
    if i >= len(words):
        return None
    head = words[i]
    if head in UNIT_WORDS and i + 1 < len(words) and words[i + 1] == "trăm":
        if head == "không" and not inner:
            return None
        value, j = UNIT_WORDS[head] * 100, i + 2
        nxt = words[j] if j < len(words) else ""
        following = words[j + 1] if j + 1 < len(words) else ""
        if nxt in LINH_WORDS and following in TAIL_WORDS:
            return value + TAIL_WORDS[following], 4
        if nxt == "rưỡi":
            return value + 50, 3
        if nxt in ("mốt", "tư", "lăm"):
            return value + TAIL_WORDS[nxt] * 10, 3  # "năm trăm tư" = 540
        tens = _tens(words, j)
        if tens is None:
            return value, 2
        part, used = tens
        if used == 1 and part < 10:  # a lone digit after trăm means tens: "một trăm hai" = 120
            if nxt in ("một", "năm"):
                return value, 2
            return value + part * 10, 3
        return value + part, 2 + used
    if inner and head in LINH_WORDS and i + 1 < len(words) and words[i + 1] in TAIL_WORDS:
        return TAIL_WORDS[words[i + 1]], 2
    if head == "không" and not inner:
        return 0, 1
    return _tens(words, i)


_LEVELS = ((10**9, frozenset({"tỷ", "tỉ"})), (10**6, frozenset({"triệu"})),
           (10**3, frozenset({"nghìn", "ngàn"})))  # fmt: skip


def _scaled(
    words: Sequence[str], i: int, below: int, inner: bool
) -> tuple[int, int, tuple[int, ...], bool] | None:
    """The longest number below ``below`` at words[i:]: (value, end, scale indexes, fraction)."""
    total, start = 0, i
    scales: tuple[int, ...] = ()
    for scale, names in _LEVELS:
        if scale >= below:
            continue
        sub = _scaled(words, i, scale, inner or total > 0)
        if sub is None or sub[1] >= len(words) or words[sub[1]] not in names or sub[0] == 0:
            continue
        amount, end = sub[0] * scale, sub[1] + 1
        marks = (*scales, *sub[2], sub[1])
        # "một triệu tỷ", "một tỷ tỷ": a scale word after a scale word multiplies
        while end < len(words) and any(words[end] in n for s, n in _LEVELS if s >= scale):
            amount *= next(s for s, n in _LEVELS if words[end] in n)
            marks = (*marks, end)
            end += 1
        total, i, scales = total + amount, end, marks
        last = next(s for s, n in _LEVELS if words[scales[-1]] in n)
        nxt = words[i] if i < len(words) else ""
        following = words[i + 1] if i + 1 < len(words) else ""
        if nxt == "rưỡi":
            return total + last // 2, i + 1, scales, True
        if (
            nxt in TAIL_WORDS
            and nxt not in ("không", "một", "năm")
            and following not in TAIL_WORDS
            and following not in ("mươi", "trăm", "mười", "phẩy", "chấm")
            and following not in SCALE_WORDS
        ):
            return total + TAIL_WORDS[nxt] * last // 10, i + 1, scales, True
    group = _group(words, i, inner or total > 0)
    if group is not None and total and group[1] == 1 and group[0] < 10:
        group = None  # below a scale, units come with linh: "ba nghìn năm" is 3000, then "năm"
    if group is not None:
        total, i = total + group[0], i + group[1]
    if i == start:
        return None
    return total, i, scales, False


def parse_number(words: Sequence[str], start: int) -> Parsed | None:
    """The longest number spoken at words[start:] (a sign word is the caller's business)."""
    found = _scaled(words, start, 10**30, inner=False)
    if found is None:
        return None
    value, end, scales, fraction = found
    return Parsed(value, start, end, scales, fraction)


def parse_digit_run(words: Sequence[str], start: int) -> tuple[str, int]:
    """Digits spoken one by one ("không chín ba"): the digit string and the end index."""
    out, i = [], start
    while i < len(words) and words[i] in UNIT_WORDS:
        out.append(str(UNIT_WORDS[words[i]]))
        i += 1
    return "".join(out), i

"""Inverse text normalization, spoken to written, for displaying ASR output
(``mười bốn giờ ba mươi phút`` -> ``14:30``, ``năm mươi kí lô`` -> ``50 kg``).

The text is split into word and punctuation tokens with their offsets; at each word, rules are
tried in order (electronic addresses, phone numbers, dates, times, ordinals, money, measures,
fractions, decimals, cardinals, fillers) and the first that reads a span rewrites it. Numbers
come from :func:`ai2text.text.numbers.parse_number`, which accepts every reading convention.
A lone digit word stays a word (``một``, ``năm``): it is too often not a number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

from ai2text.text.numbers import (
    NAMED_SCALES,
    SCALE_WORDS,
    TAIL_WORDS,
    UNIT_WORDS,
    Conventions,
    Parsed,
    parse_number,
)
from ai2text.text.rewrite import Correction, Rewritten, apply_corrections

_TOKEN = re.compile(r"\w+|[^\w\s]")
SIGNS = frozenset({"âm", "trừ"})
DECIMAL_WORDS = frozenset({"phẩy", "chấm"})
MONTHS = {**{w: v for w, v in UNIT_WORDS.items() if v}, "giêng": 1, "tư": 4}
# spoken unit -> (written unit, space before it)
MEASURES: dict[tuple[str, ...], tuple[str, bool]] = {
    tuple(k.split()): v
    for k, v in {
        "ki lô mét trên giờ": ("km/h", True), "kilomet trên giờ": ("km/h", True),
        "ki lô mét vuông": ("km²", True), "ki lô mét": ("km", True), "kilomet": ("km", True),
        "xăng ti mét trên giây": ("cm/s", True), "xen ti mét khối": ("cm³", True),
        "xăng ti mét khối": ("cm³", True), "xăng ti mét": ("cm", True),
        "xen ti mét": ("cm", True), "mi li mét": ("mm", True), "muy crô mét": ("μm", True),
        "mét trên giây": ("m/s", True), "mét vuông": ("m²", True), "mét khối": ("m³", True),
        "mét": ("m", True), "ki lô gam": ("kg", True), "ki lô gram": ("kg", True),
        "kí lô": ("kg", True), "ki lô": ("kg", True), "ký lô": ("kg", True),
        "kí": ("kg", True), "ký": ("kg", True), "gam": ("g", True),
        "gram": ("g", True), "mi li gam": ("mg", True), "mi li lít": ("ml", True),
        "lít": ("l", True), "héc ta": ("ha", True), "inch": ("inch", True),
        "vôn": ("v", True), "mi li ampe": ("mA", True), "mi li am pe": ("mA", True),
        "ki lô oát": ("kw", True), "oát": ("w", True), "hẹc": ("hz", True),
        "độ c": ("°c", True), "độ f": ("°f", True), "độ k": ("°k", True),
        "phần trăm": ("%", False), "giây": ("s", False), "phút": ("phút", True),
        "megabit trên giây": ("mbps", True), "kilobit trên giây": ("kbps", True),
        "terabyte": ("tb", True), "gigabyte": ("gb", True), "megabyte": ("mb", True),
        "gi ga bai": ("gb", True), "mê ga bai": ("mb", True), "mã lực": ("hp", True),
    }.items()
}  # fmt: skip
CURRENCIES: dict[tuple[str, ...], str] = {
    tuple(k.split()): v
    for k, v in {
        "đô la mỹ": "$", "đô la": "$", "đô": "$", "usd": "$", "euro": "€", "ơ rô": "€",
        "won": "₩", "uôn": "₩", "đồng": " đồng", "ringgit": "RM", "yên": "¥", "bảng anh": "£",
    }.items()
}  # fmt: skip
ORDINALS = {"nhất": 1, "nhì": 2, **{w: v for w, v in MONTHS.items() if w != "giêng"}}
TIME_ZONES = frozenset({"gmt", "utc", "cst", "pst", "est", "jst", "ict", "cet"})
AT_SIGNS = frozenset({"còng", "móc", "vòng"})
DOMAINS = frozenset({"com", "vn", "net", "org", "edu", "ai", "io", "gov", "info"})
FILLERS = frozenset({"ừm", "ưm", "ờm", "ừ", "ờ", "hmm", "hừm", "uhm", "um", "uh"})
DATE_WORDS = frozenset({"ngày", "mùng", "mồng"})


T = TypeVar("T")


def _index(table: dict[tuple[str, ...], T]) -> dict[str, list[tuple[tuple[str, ...], T]]]:
    """Phrases by their first word, longest first."""
    index: dict[str, list[tuple[tuple[str, ...], T]]] = {}
    for phrase, value in sorted(table.items(), key=lambda kv: -len(kv[0])):
        index.setdefault(phrase[0], []).append((phrase, value))
    return index


def _phrase_at(
    index: dict[str, list[tuple[tuple[str, ...], T]]], words: Sequence[str], i: int
) -> tuple[int, T] | None:
    """The longest phrase of ``index`` at words[i:]: (end, its value)."""
    if i >= len(words):
        return None
    for phrase, value in index.get(words[i], ()):
        if tuple(words[i : i + len(phrase)]) == phrase:
            return i + len(phrase), value
    return None


_CURRENCY_INDEX = _index(CURRENCIES)
_MEASURE_INDEX = _index(MEASURES)


@dataclass(frozen=True)
class ItnOptions:
    conventions: Conventions = field(default_factory=Conventions)
    remove_fillers: bool = False


@dataclass(frozen=True)
class _Token:
    text: str
    lower: str
    start: int
    end: int


Found = tuple[int, str] | tuple[int, str, str]  # (end, written[, class when the rule decides])
Rule = Callable[[Sequence[str], int], Found | None]


class InverseNormalizer:
    """Spoken to written; stateless once built."""

    def __init__(self, options: ItnOptions | None = None) -> None:
        options = options or ItnOptions()
        self.options = options
        self.mark = options.conventions.decimal_mark
        self._rules: list[tuple[str, Rule]] = [
            ("electronic", self._electronic),
            ("date", self._date),
            ("telephone", self._telephone),
            ("time", self._time),
            ("ordinal", self._ordinal),
            ("cardinal", self._quantity),
        ]
        if options.remove_fillers:
            self._rules.insert(0, ("filler", self._filler))
        self._starters = frozenset(
            {*TAIL_WORDS, "mười", *SIGNS, *DATE_WORDS, "tháng", "thứ", "cộng"}
            | (FILLERS if options.remove_fillers else frozenset())
        )

    def itn(self, text: str) -> str:
        return self.rewrite(text).text

    def rewrite(self, text: str) -> Rewritten:
        source = unicodedata.normalize("NFC", text)
        tokens = [
            _Token(m.group(), m.group().lower(), m.start(), m.end())
            for m in _TOKEN.finditer(source)
        ]
        words = [t.lower for t in tokens]
        corrections = []
        i = 0
        while i < len(tokens):
            if words[i] not in self._starters and not words[i].isascii():
                i += 1  # no rule starts on this word: most words of a sentence
                continue
            for kind, rule in self._rules:
                found = rule(words, i)
                if found is None:
                    continue
                end, replacement = found[0], found[1]
                kind = found[2] if len(found) == 3 else kind
                start_char, end_char = tokens[i].start, tokens[end - 1].end
                if kind == "filler":
                    end_char = tokens[end].start if end < len(tokens) else end_char
                original = source[start_char:end_char]
                if replacement != original:
                    corrections.append(
                        Correction(start_char, end_char, original, replacement, kind)
                    )
                i = end
                break
            else:
                i += 1
        written = apply_corrections(source, corrections)
        return Rewritten(source, written, tuple(corrections))

    # --- numbers -----------------------------------------------------------------------------

    def _digits(self, value: int, scale_divisor: int = 1) -> str:
        if value % scale_divisor == 0:
            return str(value // scale_divisor)
        whole, rest = divmod(value, scale_divisor)
        fraction = str(rest).rjust(len(str(scale_divisor)) - 1, "0").rstrip("0")
        return f"{whole}{self.mark}{fraction}"

    def _cardinal(self, words: Sequence[str], parsed: Parsed) -> str:
        """Digits; a round number that ends on triệu/tỷ keeps its words ("460 triệu")."""
        chain: list[int] = []
        last = parsed.end - 1 - (1 if parsed.fraction else 0)
        for index in reversed(parsed.scales):
            if index == last - len(chain) and words[index] in NAMED_SCALES:
                chain.insert(0, index)
            else:
                break
        before = [s for s in parsed.scales if s not in chain]
        if chain and not any(words[s] in NAMED_SCALES for s in before):
            divisor = 1
            for index in chain:
                divisor *= SCALE_WORDS[words[index]]
            return f"{self._digits(parsed.value, divisor)} {' '.join(words[s] for s in chain)}"
        return str(parsed.value)

    def _signed(self, words: Sequence[str], i: int) -> tuple[bool, Parsed] | None:
        negative = words[i] in SIGNS
        parsed = parse_number(words, i + 1 if negative else i)
        if parsed is None:
            return None
        return negative, parsed

    def _fraction_digits(self, words: Sequence[str], i: int) -> tuple[str, int]:
        out: list[str] = []
        while i < len(words) and words[i] in TAIL_WORDS:
            if not out and words[i] in ("mốt", "lăm", "nhăm"):
                break
            out.append(str(TAIL_WORDS[words[i]]))
            i += 1
        return "".join(out), i

    def _number_text(self, words: Sequence[str], i: int) -> tuple[int, str, bool] | None:
        """A signed integer or decimal at words[i:]: (end, written, is a bare single digit)."""
        signed = self._signed(words, i)
        if signed is None:
            return None
        negative, parsed = signed
        end = parsed.end
        sign = "-" if negative else ""
        if end + 1 < len(words) and words[end] in DECIMAL_WORDS:
            digits, after = self._fraction_digits(words, end + 1)
            if digits:
                written = f"{parsed.value}{self.mark}{digits}"
                if after < len(words) and words[after] in SCALE_WORDS:
                    written, after = f"{written} {words[after]}", after + 1
                return after, sign + written, False
        bare = not negative and parsed.end - parsed.start == 1 and parsed.value < 10
        return end, sign + self._cardinal(words, parsed), bare

    # --- rules -------------------------------------------------------------------------------

    def _filler(self, words: Sequence[str], i: int) -> tuple[int, str] | None:
        return (i + 1, "") if words[i] in FILLERS else None

    def _quantity(self, words: Sequence[str], i: int) -> Found | None:
        number = self._number_text(words, i)
        if number is None:
            return None
        end, written, bare = number
        currency = _phrase_at(_CURRENCY_INDEX, words, end)
        if currency is not None:
            after, symbol = currency
            if after < len(words) and words[after] == "rưỡi":
                written, after = f"{written}{self.mark}5", after + 1
            return after, f"{written}{symbol}", "money"
        measure = _phrase_at(_MEASURE_INDEX, words, end)
        if measure is not None:
            after, (unit, spaced) = measure
            return after, f"{written} {unit}" if spaced else f"{written}{unit}", "measure"
        # a fraction: "hai phần ba", "một trên hai", "hai ba chia mười hai"
        if end < len(words) and words[end] in ("phần", "trên", "chia"):
            below = parse_number(words, end + 1)
            if below is None and end + 1 < len(words) and words[end + 1] == "tư":
                return end + 2, f"{written}/4", "fraction"  # "ba phần tư"
            if below is not None:
                return below.end, f"{written}/{below.value}", "fraction"
        if bare:
            return None
        return end, written, "decimal" if self.mark in written else "cardinal"

    def _ordinal(self, words: Sequence[str], i: int) -> tuple[int, str] | None:
        if words[i] != "thứ" or i + 1 >= len(words):
            return None
        nxt = words[i + 1]
        if nxt in ORDINALS and (i + 2 >= len(words) or words[i + 2] not in ("mươi", "trăm")):
            return i + 2, f"thứ {ORDINALS[nxt]}"
        parsed = parse_number(words, i + 1)
        if parsed is None:
            return None
        return parsed.end, f"thứ {parsed.value}"

    def _year(self, words: Sequence[str], i: int) -> tuple[int, int] | None:
        """A year: digit by digit or in pairs ("hai không hai ba", "một tám năm hai") or read
        as a number ("hai nghìn mười ba")."""
        digits, j = "", i
        while j < len(words) and len(digits) < 4:
            word = words[j]
            if word in ("mười", "linh", "lẻ") and j + 1 < len(words):
                nxt = words[j + 1]
                if word == "mười" and nxt in TAIL_WORDS and nxt not in ("không", "mốt"):
                    digits, j = digits + f"1{TAIL_WORDS[nxt]}", j + 2
                    continue
                if word != "mười" and nxt in TAIL_WORDS:
                    digits, j = digits + f"0{TAIL_WORDS[nxt]}", j + 2
                    continue
                if word == "mười":
                    digits, j = digits + "10", j + 1
                    continue
                break
            if word in TAIL_WORDS and (digits or word in UNIT_WORDS):
                digits, j = digits + str(TAIL_WORDS[word]), j + 1
                continue
            break
        if len(digits) == 4 and j - i >= 3:
            return j, int(digits)
        parsed = parse_number(words, i)
        if parsed is not None and parsed.value >= 10:
            return parsed.end, parsed.value
        return None

    def _month(self, words: Sequence[str], i: int) -> tuple[int | None, int]:
        """A month name at words[i]: (1-12 or None, end)."""
        if words[i] == "mười":
            nxt = words[i + 1] if i + 1 < len(words) else ""
            return (10 + UNIT_WORDS[nxt], i + 2) if nxt in ("một", "hai") else (10, i + 1)
        return MONTHS.get(words[i]), i + 1

    def _date(self, words: Sequence[str], i: int) -> tuple[int, str] | None:
        parts: list[str] = []
        j = i
        if words[j] in DATE_WORDS:
            day = parse_number(words, j + 1)
            if day is None or not 1 <= day.value <= 31:
                return None
            parts.append(f"{words[j]} {day.value}")
            j = day.end
            if j < len(words) and words[j] in DATE_WORDS:
                return None
        elif words[j] != "tháng" and words[j] != "năm":
            day = parse_number(words, j)
            if day is None or not 1 <= day.value <= 31 or day.end >= len(words):
                return None
            if words[day.end] != "tháng":
                return None
            parts.append(str(day.value))
            j = day.end
        if j < len(words) and words[j] == "tháng" and j + 1 < len(words):
            value, end = self._month(words, j + 1)
            month_word = words[j + 1]
            year_follows = end + 1 < len(words) and words[end] == "năm"
            if value is not None and (month_word != "năm" or parts or (year_follows and
                                      self._year(words, end + 1) is not None)):  # fmt: skip
                parts.append(f"tháng {value}")
                j = end
            elif not parts:
                return None
            else:
                parts.append(f"tháng {month_word}")
                j += 2
        if j + 1 < len(words) and words[j] == "năm" and (parts or words[i] == "năm"):
            year = self._year(words, j + 1)
            if year is not None:
                parts.append(f"năm {year[1]}")
                j = year[0]
        if not parts or (len(parts) == 1 and parts[0].startswith("tháng") and j == i + 2
                         and words[i + 1] == "năm"):  # fmt: skip
            return None
        return j, " ".join(parts)

    def _time(self, words: Sequence[str], i: int) -> tuple[int, str] | None:
        hours = parse_number(words, i)
        if hours is None or hours.end >= len(words):
            return None
        unit = words[hours.end]
        if unit == "giờ" and hours.value <= 24:
            return self._clock(words, hours.value, hours.end + 1)
        if unit == "phút":
            j = hours.end + 1
            if j < len(words) and words[j] == "rưỡi":
                return j + 1, f"{hours.value}p30s"
            seconds = parse_number(words, j)
            if seconds is not None and seconds.end < len(words) and words[seconds.end] == "giây":
                return seconds.end + 1, f"{hours.value}p{seconds.value:02d}s"
        return None

    def _clock(self, words: Sequence[str], hours: int, j: int) -> tuple[int, str]:
        minutes: int | None = None
        seconds: int | None = None
        nxt = words[j] if j < len(words) else ""
        if nxt == "rưỡi":
            minutes, j = 30, j + 1
        elif nxt == "kém":
            before = parse_number(words, j + 1)
            if before is not None and before.value < 60:
                j = before.end + (1 if before.end < len(words) and words[before.end] == "phút"
                                  else 0)  # fmt: skip
                return self._zone(words, j, f"{hours - 1}:{60 - before.value:02d}")
        else:
            if nxt == "không" and words[j + 1 : j + 2] == ["phút"]:
                minutes, j = 0, j + 1
            elif (
                nxt in ("không", "linh", "lẻ")
                and words[j + 1 : j + 2]
                and (words[j + 1] in TAIL_WORDS)
            ):
                minutes, j = TAIL_WORDS[words[j + 1]], j + 2
            else:
                found = parse_number(words, j)
                if found is not None and found.value < 60:
                    unit = words[found.end] if found.end < len(words) else ""
                    if unit == "giây":
                        seconds, j = found.value, found.end + 1
                    elif unit == "phút" or found.end - found.start > 1 or found.value >= 10:
                        minutes, j = found.value, found.end
            if minutes is not None and j < len(words) and words[j] == "phút":
                j += 1
            if minutes is not None:
                found = parse_number(words, j)
                if found is not None and found.end < len(words) and words[found.end] == "giây":
                    seconds, j = found.value, found.end + 1
        if minutes is None and seconds is None:
            return self._zone(words, j, f"{hours}h")
        if minutes is None:
            return self._zone(words, j, f"{hours}h {seconds}s")
        clock = f"{hours}:{minutes:02d}" + (f":{seconds:02d}" if seconds is not None else "")
        return self._zone(words, j, clock)

    def _zone(self, words: Sequence[str], j: int, written: str) -> tuple[int, str]:
        if j < len(words) and words[j] in TIME_ZONES:
            return j + 1, f"{written} {words[j]}"
        return j, written

    def _telephone(self, words: Sequence[str], i: int) -> tuple[int, str] | None:
        j, prefix = i, ""
        if words[i] == "cộng":
            code = parse_number(words, i + 1)
            if code is not None and "mươi" in words[code.start : code.end]:
                run, end = self._digit_run(words, code.end)
                prefix = f"+{code.value} "
            else:
                run, end = self._digit_run(words, i + 1)
                prefix, run = f"+{run[:-10]} ", run[-10:]
            if len(run) < 9 or prefix == "+ ":
                return None
            return end, prefix + self._phone(run)
        run, end = self._digit_run(words, j)
        if not run:
            return None
        # an IP address: digit groups joined by "chấm"
        groups = [run]
        while end + 1 < len(words) and words[end] == "chấm":
            more, after = self._digit_run(words, end + 1)
            if not more:
                break
            groups.append(more)
            end = after
        if len(groups) == 4:
            return end, ".".join(str(int(g)) for g in groups)
        if len(groups) > 1 or len(run) < 3:
            return None
        return end, self._phone(run)

    def _digit_run(self, words: Sequence[str], i: int) -> tuple[str, int]:
        out: list[str] = []
        j = i
        while j < len(words) and (words[j] in UNIT_WORDS or (out and words[j] in TAIL_WORDS)):
            if j + 1 < len(words) and words[j + 1] in ("mươi", "trăm", "nghìn", "ngàn"):
                break
            out.append(str(TAIL_WORDS[words[j]]))
            j += 1
        return "".join(out), j

    def _phone(self, digits: str) -> str:
        if len(digits) == 10 and digits.startswith("0"):
            return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        if len(digits) == 16:
            return " ".join(digits[k : k + 4] for k in range(0, 16, 4))
        if len(digits) == 15:
            return f"{digits[:4]} {digits[4:10]} {digits[10:]}"
        return digits

    def _electronic(self, words: Sequence[str], i: int) -> tuple[int, str] | None:
        out: list[str] = []
        j, marked = i, False
        while j < len(words):
            word = words[j]
            if word == "a" and j + 1 < len(words) and words[j + 1] in AT_SIGNS and out:
                out.append("@")
                marked, j = True, j + 2
            elif word == "hai" and words[j + 1 : j + 4] == ["chấm", "sẹc", "sẹc"]:
                out.append("://")
                j += 4
            elif word == "chấm" and out and j + 1 < len(words) and words[j + 1].isascii():
                out.append(".")
                j += 1
            elif word == "gạch" and out:
                out.append("-")
                j += 1
            elif word in UNIT_WORDS and out:
                out.append(str(UNIT_WORDS[word]))
                j += 1
            elif word.isascii() and word.isalnum():
                out.append(word)
                j += 1
            else:
                break
        text = "".join(out)
        tld = text.rsplit(".", 1)[-1] if "." in text else ""
        if not (marked or (tld in DOMAINS and "." in text)) or j - i < 3:
            return None
        return j, text


@lru_cache(maxsize=1)
def _default() -> InverseNormalizer:
    return InverseNormalizer()


def itn(text: str) -> str:
    """Spoken to written with the default conventions (the engine is built on first use)."""
    return _default().itn(text)

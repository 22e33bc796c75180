"""Text normalization, written to spoken: what synthesis reads and what the ASR model was trained
to output (``ngày 15/01/2024`` -> ``ngày mười lăm tháng một năm hai nghìn hai mươi tư``).

One pass over the NFC text with one compiled alternation of rules, tried in priority order at each
position, so a date is never read as a fraction and every rewrite is a span with its offsets
(:class:`~ai2text.text.rewrite.Correction`). Classes: dates, times, ranges, money, measures,
ordinals, Roman numerals after the words that take them, fractions, decimals and cardinals,
abbreviations, and fillers (optional). Deterministic: no model, no state.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from ai2text.text.numbers import Conventions, read_digits, read_number, roman_value
from ai2text.text.rewrite import Correction, Rewritten, apply_corrections

UNITS = {
    "km/h": "ki lô mét trên giờ", "m/s": "mét trên giây", "m/min": "mét trên phút",
    "cm/s": "xăng ti mét trên giây", "mg/ml": "mi li gam trên mi li lít",
    "km²": "ki lô mét vuông", "km2": "ki lô mét vuông", "m²": "mét vuông", "m2": "mét vuông",
    "cm²": "xăng ti mét vuông", "m³": "mét khối", "m3": "mét khối", "cm³": "xăng ti mét khối",
    "km": "ki lô mét", "cm": "xăng ti mét", "mm": "mi li mét", "m": "mét", "inch": "inch",
    "kg": "ki lô gam", "mg": "mi li gam", "g": "gam", "ml": "mi li lít", "l": "lít",
    "ha": "héc ta", "tb": "terabyte", "TB": "tê ra bai", "gb": "gi ga bai", "GB": "gi ga bai",
    "Mb": "mê ga bai", "mb": "mê ga bai", "MB": "mê ga bai", "kb": "ki lô bai",
    "KB": "ki lô bai", "°c": "độ c", "°C": "độ c", "°f": "độ f", "°F": "độ f", "°k": "độ k",
    "°K": "độ k", "%": "phần trăm", "mV": "mi li vôn", "mA": "mi li am pe", "v": "vôn",
    "V": "vôn", "kw": "ki lô oát", "kW": "ki lô oát", "tw": "tê ra oát", "hz": "hẹc",
    "Hz": "hẹc", "ghz": "gi ga hẹc", "GHz": "gi ga hẹc", "Mhz": "mê ga hẹc",
    "MHz": "mê ga hẹc", "mhz": "mê ga hẹc", "hp": "mã lực", "sqm": "mét vuông",
    "lb": "pao", "db": "đê xi ben", "dB": "đê xi ben",
}  # fmt: skip
CURRENCIES = {
    "₫": "đồng", "đ": "đồng", "đồng": "đồng", "vnd": "đồng", "VND": "đồng", "$": "đô la",
    "usd": "đô la", "USD": "đô la", "đô la": "đô la", "€": "ơ rô", "¥": "yên nhật",
    "£": "bảng anh", "₹": "rupee",
}  # fmt: skip
CENT_CURRENCIES = frozenset({"đô la", "ơ rô"})
SUFFIX_SCALES = {"k": 10**3, "tr": 10**6, "t": 10**9}
TIME_ZONES = ("gmt", "utc", "cst", "pst", "est", "jst", "ict", "cet")
PER_TIME = {"h": "giờ", "giờ": "giờ", "ngày": "ngày", "tháng": "tháng", "năm": "năm",
            "tuần": "tuần", "phút": "phút", "người": "người"}  # fmt: skip
ROMAN_AFTER = ("thế kỷ", "thế kỉ", "thứ", "chương", "phần", "mục", "đoạn", "năm", "khoản",
               "phụ lục", "khóa", "khoá", "số", "hồi", "tập", "quyển", "điều")  # fmt: skip
ABBREVIATIONS = {
    "TP.HCM": "thành phố Hồ Chí Minh", "TPHCM": "thành phố Hồ Chí Minh",
    "TP HCM": "thành phố Hồ Chí Minh", "HCM": "Hồ Chí Minh", "TP.": "thành phố",
    "UBND": "ủy ban nhân dân", "HĐND": "hội đồng nhân dân", "CSGT": "cảnh sát giao thông",
    "LHQ": "liên hợp quốc", "CLB": "câu lạc bộ", "HLV": "huấn luyện viên",
    "THPT": "trung học phổ thông", "THCS": "trung học cơ sở", "ĐH": "đại học",
    "PGS.TS": "phó giáo sư tiến sĩ", "PGS": "phó giáo sư", "GS": "giáo sư", "TS": "tiến sĩ",
    "ThS": "thạc sĩ", "BS": "bác sĩ", "NXB": "nhà xuất bản", "BHYT": "bảo hiểm y tế",
    "BHXH": "bảo hiểm xã hội", "CNTT": "công nghệ thông tin", "HĐQT": "hội đồng quản trị",
    "v.v.": "vân vân", "v.v": "vân vân", "v/v": "về việc", "đ/c": "địa chỉ",
}  # fmt: skip
PLACE_PREFIXES = {"Q.": "quận", "P.": "phường", "TX.": "thị xã", "H.": "huyện"}
FILLERS = ("ừm", "ưm", "ờm", "ừ", "ờ", "hmm", "hừm", "uhm", "um", "uh")


@dataclass(frozen=True)
class NormalizeOptions:
    conventions: Conventions = field(default_factory=Conventions)
    remove_fillers: bool = False


def _options(keys: Iterable[str]) -> str:
    """A regex alternation of literal keys, longest first."""
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


# 12.345,5 (Vietnamese grouping and decimal comma), 2.3 (a decimal point: not three digits after)
NUM = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+\.\d{1,2}(?!\d)|\d+(?:,\d+)?"
UNIT = _options(UNITS)
CURRENCY = _options(CURRENCIES)
QUANTITY = rf"(?:\d{{1,2}}:\d{{2}}|(?:{NUM})(?:tr|k|t)?\s?(?:{CURRENCY}|{UNIT})?)"
SCALE_WORD = "nghìn|ngàn|triệu|tỷ|tỉ|vạn"
_END = r"(?![\w])"  # not followed by a letter or digit (\b fails after ° % $ ₫)
_START = r"(?<![\w.,])(?<!\w-)"  # not inside a word, a decimal, or a code like "CG-49"
_NUMBER_END = r"(?![\w]|[.,]\d)"  # not followed by letters or more digits


def _number(text: str) -> tuple[int, str, str]:
    """``"12.345,50"`` -> (12345, "50", "phẩy"): grouping dots dropped, the fraction after the
    comma; ``"2.3"`` -> (2, "3", "chấm")."""
    if "," not in text and re.fullmatch(r"\d+\.\d{1,2}", text):
        whole, _, fraction = text.partition(".")
        return int(whole), fraction, "chấm"
    whole, _, fraction = text.replace(".", "").partition(",")
    return int(whole), fraction, "phẩy"


_ZONE = "|".join(TIME_ZONES)
_DASHES = "-\u2013"  # a hyphen or an en dash between the ends of a range
# (class, pattern, handler): tried in this order at each position, the leftmost match wins
_RULES: tuple[tuple[str, str, str], ...] = (
    ("date", rf"(?:(?P<d_kw>[Nn]gày)\s+)?(?P<d_d>\d{{1,2}})(?P<d_sep>[/.-])(?P<d_m>\d{{1,2}})"
     rf"(?P=d_sep)(?P<d_y>\d{{4}}){_END}", "_date"),
    ("date", rf"(?P<dm_kw>[Nn]gày)\s+(?P<dm_d>\d{{1,2}})/(?P<dm_m>\d{{1,2}}){_END}", "_day_month"),
    ("date", r"(?<![\w.,/])(?P<zd_d>\d{2})/(?P<zd_m>\d{2})(?![\w/])", "_padded_date"),
    ("date", r"(?<![\w.,/])(?P<zm_m>\d{1,2})/(?P<zm_y>\d{4})(?![\w/])", "_padded_month"),
    ("date", rf"(?P<my_kw>[Tt]háng)\s+(?P<my_m>\d{{1,2}})(?:/|\s+)(?P<my_y>\d{{4}}){_END}",
     "_month_year"),
    ("date", rf"(?P<mo_kw>[Tt]háng)\s+(?P<mo_m>\d{{1,2}}){_END}", "_month"),
    ("range", rf"{_START}(?P<r_a>{QUANTITY})\s?[{_DASHES}]\s?(?P<r_b>{QUANTITY}){_END}", "_range"),
    ("time", rf"(?<![\w.,:])(?P<t_h>\d{{1,2}}):(?P<t_m>\d{{2}})(?::(?P<t_s>\d{{2}}))?(?![\w:])"
     rf"(?:\s+(?P<t_z>{_ZONE}){_END})?", "_clock"),
    ("time", rf"{_START}(?P<hm_h>\d{{1,2}})[hg](?P<hm_m>\d{{2}}){_END}", "_hour_minute"),
    ("time", rf"{_START}(?P<h_h>\d{{1,2}})h(?:\s+(?P<h_z>{_ZONE}))?{_END}", "_hour"),
    ("time", rf"{_START}(?P<ms_m>\d{{1,2}})p(?P<ms_s>\d{{1,2}})s{_END}", "_minute_second"),
    ("time", rf"{_START}(?P<p_m>\d{{1,2}})p{_END}", "_minutes"),
    ("time", rf"{_START}(?P<s_s>\d{{1,2}})s{_END}", "_seconds"),
    ("money", rf"\$(?P<mp_n>{NUM}){_END}", "_money_prefix"),
    ("money", rf"{_START}(?P<mo_neg>-)?(?P<mo_n>{NUM})(?P<mo_sx>tr|k|t)?(?P<mo_sd>\d)?"
     rf"(?:\s(?P<mo_scale>{SCALE_WORD}))?\s?(?P<mo_c>{CURRENCY})"
     rf"(?:/(?P<mo_per>{UNIT}|\w+))?{_END}", "_money"),
    ("measure", rf"{_START}(?P<me_neg>-)?(?P<me_n>\d+/\d+|{NUM})"
     rf"(?:\s(?P<me_scale>{SCALE_WORD}))?\s?(?P<me_u>{UNIT}){_END}", "_measure"),
    ("ordinal", r"(?P<o_kw>\b(?:[Tt]hứ|[Hh]ạng))\s+(?P<o_n>\d+)(?!\w)", "_ordinal"),
    ("roman", rf"(?P<ro_kw>\b(?i:{_options(ROMAN_AFTER)}))\s+(?P<ro_n>[IVXLCDMivxlcdm]+)\b",
     "_roman"),
    ("fraction", r"(?<![\w.,/])(?P<f_neg>-)?(?:(?P<f_w>\d+)\s+)?(?P<f_n>\d+)/(?P<f_d>\d+)"
     r"(?![\w/])", "_fraction"),
    ("telephone", rf"{_START}(?P<ph_plus>\+)?(?P<ph_n>0\d+|(?<=\+)\d{{8,}}){_NUMBER_END}",
     "_digit_string"),
    ("cardinal", rf"{_START}(?P<c_neg>-)?(?P<c_n>\d+)(?P<c_sx>tr|k|t)(?P<c_sd>\d)?{_END}",
     "_suffixed"),
    ("cardinal", rf"{_START}(?P<n_neg>-)?(?P<n_n>{NUM}){_NUMBER_END}", "_plain"),
    ("abbreviation", rf"(?<!\w)(?P<ab>{_options(ABBREVIATIONS)})(?!\w)", "_abbreviation"),
    ("abbreviation", rf"(?<!\w)(?P<pl>{_options(PLACE_PREFIXES)})\s?(?=\d|[A-ZĐ])", "_place"),
)  # fmt: skip
_FILLER_RULE = (
    "filler",
    rf"(?:(?<=^)|(?<=[\s,.!?]))(?i:{_options(FILLERS)})(?!\w),?\s*",
    "_filler",
)


class Normalizer:
    """Written to spoken; stateless once built, so one instance serves every thread."""

    def __init__(self, options: NormalizeOptions | None = None) -> None:
        self.options = options or NormalizeOptions()
        self.conv = self.options.conventions
        rules = (*_RULES, _FILLER_RULE) if self.options.remove_fillers else _RULES
        self._rules = {f"_r{i}": (kind, getattr(self, name)) for i, (kind, _, name) in
                       enumerate(rules)}  # fmt: skip
        keywords = [*ROMAN_AFTER, *ABBREVIATIONS, *PLACE_PREFIXES, "ngày", "tháng", "thứ", "hạng"]
        if self.options.remove_fillers:
            keywords.extend(FILLERS)
        starts = {c for word in keywords for c in (word[0].lower(), word[0].upper())}
        # every rule starts a word: checking that and its first character before trying the
        # alternatives one by one makes the pass several times faster
        first = re.escape("".join(sorted(starts | set("0123456789$+-"))))
        alternatives = "|".join(f"(?P<_r{i}>{p})" for i, (_, p, _) in enumerate(rules))
        self._pattern = re.compile(rf"(?<!\w)(?=[{first}])(?:{alternatives})")

    def normalize(self, text: str) -> str:
        return self.rewrite(text).text

    def rewrite(self, text: str) -> Rewritten:
        source = unicodedata.normalize("NFC", text)
        corrections = []
        for match in self._pattern.finditer(source):
            kind, handler = self._rules[str(match.lastgroup)]
            replacement = handler(match)
            if replacement != match.group():
                fix = Correction(match.start(), match.end(), match.group(), replacement, kind)
                corrections.append(fix)
        spoken = apply_corrections(source, corrections)
        if self.options.remove_fillers:
            spoken = re.sub(r"\s{2,}", " ", spoken).strip()
        return Rewritten(source, spoken, tuple(corrections))

    # --- readings ----------------------------------------------------------------------------

    def _n(self, value: int) -> str:
        return read_number(value, self.conv)

    def _amount(self, text: str, negative: bool = False) -> str:
        whole, fraction, point = _number(text)
        spoken = self._n(whole)
        if fraction:
            as_number = self.conv.fraction_as_number and not fraction.startswith("0")
            digits = self._n(int(fraction)) if as_number else read_digits(fraction)
            spoken = f"{spoken} {point} {digits}"
        return f"âm {spoken}" if negative else spoken

    def _month_name(self, month: str) -> str:
        value = int(month)
        return "tư" if value == 4 else self._n(value)

    def _date(self, m: re.Match[str]) -> str:
        day, month = int(m["d_d"]), int(m["d_m"])
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return m.group()
        keyword = m["d_kw"] or "ngày"
        return (f"{keyword} {self._n(day)} tháng {self._month_name(m['d_m'])} "
                f"năm {self._n(int(m['d_y']))}")  # fmt: skip

    def _day_month(self, m: re.Match[str]) -> str:
        day, month = int(m["dm_d"]), int(m["dm_m"])
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return m.group()
        return f"{m['dm_kw']} {self._n(day)} tháng {self._month_name(m['dm_m'])}"

    def _padded_date(self, m: re.Match[str]) -> str:
        """``21/02`` (a part zero-padded) is a date; ``2/10`` and ``15/05``-like others are
        fractions."""
        day, month = int(m["zd_d"]), int(m["zd_m"])
        padded = "0" in (m["zd_d"][0], m["zd_m"][0])
        if padded and 1 <= day <= 31 and 1 <= month <= 12:
            return f"ngày {self._n(day)} tháng {self._month_name(m['zd_m'])}"
        return self._fraction_words(day, month) if month else m.group()

    def _padded_month(self, m: re.Match[str]) -> str:
        month, year = int(m["zm_m"]), int(m["zm_y"])
        if not 1 <= month <= 12:
            return self._fraction_words(month, year) if year else m.group()
        return f"tháng {self._month_name(m['zm_m'])} năm {self._n(year)}"

    def _digit_string(self, m: re.Match[str]) -> str:
        spoken = read_digits(m["ph_n"])
        return f"cộng {spoken}" if m["ph_plus"] else spoken

    def _month_year(self, m: re.Match[str]) -> str:
        if not 1 <= int(m["my_m"]) <= 12:
            return m.group()
        return f"{m['my_kw']} {self._month_name(m['my_m'])} năm {self._n(int(m['my_y']))}"

    def _month(self, m: re.Match[str]) -> str:
        if not 1 <= int(m["mo_m"]) <= 12:
            return m.group()
        return f"{m['mo_kw']} {self._month_name(m['mo_m'])}"

    def _range(self, m: re.Match[str]) -> str:
        return f"{self.normalize(m['r_a'])} đến {self.normalize(m['r_b'])}"

    def _clock_words(self, hours: int, minutes: int, seconds: int) -> str:
        parts = [f"{self._n(hours)} giờ"]
        if minutes:
            parts.append(f"{self._n(minutes)} phút")
        if seconds:
            parts.append(f"{self._n(seconds)} giây")
        return " ".join(parts)

    def _clock(self, m: re.Match[str]) -> str:
        hours, minutes, seconds = int(m["t_h"]), int(m["t_m"]), int(m["t_s"] or 0)
        if hours > 24 or minutes > 59 or seconds > 59:
            return m.group()
        spoken = self._clock_words(hours, minutes, seconds)
        return f"{spoken} {m['t_z'].upper()}" if m["t_z"] else spoken

    def _hour_minute(self, m: re.Match[str]) -> str:
        hours, minutes = int(m["hm_h"]), int(m["hm_m"])
        if hours > 24 or minutes > 59:
            return m.group()
        return self._clock_words(hours, minutes, 0)

    def _hour(self, m: re.Match[str]) -> str:
        if int(m["h_h"]) > 24:
            return m.group()
        spoken = f"{self._n(int(m['h_h']))} giờ"
        return f"{spoken} {m['h_z'].upper()}" if m["h_z"] else spoken

    def _minute_second(self, m: re.Match[str]) -> str:
        minutes, seconds = int(m["ms_m"]), int(m["ms_s"])
        spoken = f"{self._n(minutes)} phút"
        return f"{spoken} {self._n(seconds)} giây" if seconds else spoken

    def _minutes(self, m: re.Match[str]) -> str:
        return f"{self._n(int(m['p_m']))} phút"

    def _seconds(self, m: re.Match[str]) -> str:
        return f"{self._n(int(m['s_s']))} giây"

    def _cents(self, text: str, currency: str) -> str:
        whole, fraction, _ = _number(text)
        cents = int((fraction + "00")[:2])
        parts = [f"{self._n(whole)} {currency}"] if whole or not cents else []
        if cents:
            parts.append(f"{self._n(cents)} xu")
        return " ".join(parts)

    def _money_prefix(self, m: re.Match[str]) -> str:
        return self._cents(m["mp_n"], "đô la")

    def _scaled(self, number: str, suffix: str, digit: str | None, negative: bool) -> str:
        """``1tr2`` -> 1,200,000 read aloud; ``2t3`` -> 2.3 billion."""
        whole, fraction, _ = _number(number)
        scale = SUFFIX_SCALES[suffix]
        tail = (fraction or "") + (digit or "")
        value = whole * scale + (int(tail) * scale // 10 ** len(tail) if tail else 0)
        return f"âm {self._n(value)}" if negative else self._n(value)

    def _money(self, m: re.Match[str]) -> str:
        currency = CURRENCIES[m["mo_c"]]
        negative = m["mo_neg"] is not None
        if m["mo_sx"]:
            spoken = self._scaled(m["mo_n"], m["mo_sx"], m["mo_sd"], negative)
        elif m["mo_sd"]:
            return m.group()
        elif currency in CENT_CURRENCIES and "," in m["mo_n"]:
            spoken = self._cents(m["mo_n"], currency)
            spoken = f"âm {spoken}" if negative else spoken
            currency = ""
        else:
            spoken = self._amount(m["mo_n"], negative)
        if m["mo_scale"]:
            spoken = f"{spoken} {m['mo_scale']}"
        spoken = f"{spoken} {currency}" if currency else spoken
        per = m["mo_per"]
        if per is None:
            return spoken
        if per in UNITS:
            return f"{spoken} một {UNITS[per]}"
        return f"{spoken} trên {PER_TIME.get(per, per)}"

    def _measure(self, m: re.Match[str]) -> str:
        number = m["me_n"]
        if "/" in number:
            top, bottom = (int(x) for x in number.split("/"))
            amount = self._fraction_words(top, bottom)
            amount = f"âm {amount}" if m["me_neg"] else amount
        else:
            amount = self._amount(number, m["me_neg"] is not None)
        scale = f" {m['me_scale']}" if m["me_scale"] else ""
        return f"{amount}{scale} {UNITS[m['me_u']]}"

    def _ordinal(self, m: re.Match[str]) -> str:
        value = int(m["o_n"])
        spoken = {1: "nhất", 4: "tư"}.get(value) or self._n(value)
        return f"{m['o_kw']} {spoken}"

    def _roman(self, m: re.Match[str]) -> str:
        value = roman_value(m["ro_n"])
        if value is None:
            return m.group()
        return f"{m['ro_kw']} {self._n(value)}"

    def _fraction_words(self, top: int, bottom: int) -> str:
        return f"{self._n(top)} phần {'tư' if bottom == 4 else self._n(bottom)}"

    def _fraction(self, m: re.Match[str]) -> str:
        top, bottom = int(m["f_n"]), int(m["f_d"])
        if bottom == 0:
            return m.group()
        spoken = self._fraction_words(top, bottom)
        if m["f_w"]:
            spoken = f"{self._n(int(m['f_w']))} và {spoken}"
        return f"âm {spoken}" if m["f_neg"] else spoken

    def _suffixed(self, m: re.Match[str]) -> str:
        return self._scaled(m["c_n"], m["c_sx"], m["c_sd"], m["c_neg"] is not None)

    def _plain(self, m: re.Match[str]) -> str:
        return self._amount(m["n_n"], m["n_neg"] is not None)

    def _abbreviation(self, m: re.Match[str]) -> str:
        return ABBREVIATIONS[m["ab"]]

    def _filler(self, m: re.Match[str]) -> str:
        return ""

    def _place(self, m: re.Match[str]) -> str:
        return f"{PLACE_PREFIXES[m['pl']]} "


@lru_cache(maxsize=1)
def _default() -> Normalizer:
    return Normalizer()


def normalize(text: str) -> str:
    """Written to spoken with the default conventions (the engine is built on first use)."""
    return _default().normalize(text)

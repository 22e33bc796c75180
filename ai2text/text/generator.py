"""More training text than the hand-written corpus holds: valid syllables and template sentences.

Why it exists: the bootstrap ASR model was trained on synthetic speech (espeak-ng) of the team's
training sentences (3,578 then), and with so few distinct sentences about 5 % of the syllables in
the held-out text never occurred in training, so the model could not learn them. This module
writes far more text, of two kinds:

- random sequences of valid syllables (``random_syllable_sequences``), which cover every onset,
  rhyme and tone of written Vietnamese, weighted towards the syllables the corpus uses most;
- grammatical everyday and news sentences (``template_sentences``) built from the templates and
  vocabulary the team wrote in ``corpus/lexicon.json``, with numbers, dates, clock times, prices
  and phone numbers spelled out the way they are read aloud (``spell_number``).

Who calls it: the step that prepares bootstrap training text calls ``generate_corpus`` (the CLI
wiring lives elsewhere). Held-out sentences are never used to generate anything; they are only
excluded, and ``generate_corpus`` always excludes the package's ``heldout.txt`` as well as the
caller's ``exclude`` lines.

The syllable inventory follows the spelling rules (c/k/qu, g/gh, ng/ngh, gi, y/i and iê/yê/ia, stop
finals taking only sắc or nặng) and places tone marks the way ``corpus/train.txt`` does: the old
style of "hòa", "khỏe", "thủy" (an open oa, oe or uy takes the mark on its first vowel), with
"quá", "của", "người", "giữa". Everything is NFC. Output is deterministic for a given seed; only
the standard library and ai2text itself are used.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import accumulate
from typing import Any

from ai2text.errors import InputError
from ai2text.text.corpus import corpus_sentences
from ai2text.text.syllables import TONE_MARKS
from ai2text.text.transcript import normalize_transcript

# --------------------------------------------------------------------------------------------
# Syllable inventory
# --------------------------------------------------------------------------------------------

ONSETS: tuple[str, ...] = (
    "",
    "b",
    "c",
    "ch",
    "d",
    "đ",
    "g",
    "gh",
    "gi",
    "h",
    "k",
    "kh",
    "l",
    "m",
    "n",
    "ng",
    "ngh",
    "nh",
    "p",
    "ph",
    "qu",
    "r",
    "s",
    "t",
    "th",
    "tr",
    "v",
    "x",
)

TONES: tuple[str, ...] = ("ngang", "huyền", "sắc", "hỏi", "ngã", "nặng")
STOP_TONES: tuple[str, ...] = ("sắc", "nặng")
_TONE_MARK: dict[str, str] = {name: mark for mark, name in TONE_MARKS.items()}

# Rhymes without a w-glide, written as after an onset ("iê" stays "iê"; with no onset it is
# written "yê"). "oong"/"ooc" are the loanword rhymes of "xoong", "voọc", "Đoòng"; "eng"/"ec"
# those of "xẻng", "kẻng", "héc ta", "Sa Đéc".
PLAIN_RHYMES: tuple[str, ...] = (
    *("a", "ai", "ao", "au", "ay", "am", "an", "ang", "anh", "ap", "at", "ac", "ach"),
    *("ăm", "ăn", "ăng", "ăp", "ăt", "ăc"),
    *("âu", "ây", "âm", "ân", "âng", "âp", "ât", "âc"),
    *("e", "eo", "em", "en", "eng", "ep", "et", "ec"),
    *("ê", "êu", "êm", "ên", "ênh", "êp", "êt", "êch"),
    *("i", "ia", "iu", "im", "in", "inh", "ip", "it", "ich"),
    *("iêu", "iêm", "iên", "iêng", "iêp", "iêt", "iêc"),
    *("o", "oi", "om", "on", "ong", "op", "ot", "oc", "oong", "ooc"),
    *("ô", "ôi", "ôm", "ôn", "ông", "ôp", "ôt", "ôc"),
    *("ơ", "ơi", "ơm", "ơn", "ơp", "ơt"),
    *("u", "ua", "ui", "um", "un", "ung", "up", "ut", "uc"),
    *("uôi", "uôm", "uôn", "uông", "uôt", "uôc"),
    *("ư", "ưa", "ưi", "ưu", "ưn", "ưng", "ưt", "ưc"),
    *("ươi", "ươu", "ươm", "ươn", "ương", "ươp", "ươt", "ươc"),
    "y",
)

# Rhymes that start with the w-glide, spelled "o" before a ă e and "u" before â ê ơ y.
GLIDE_RHYMES: tuple[str, ...] = (
    *("oa", "oai", "oay", "oam", "oan", "oang", "oanh", "oat", "oac", "oach"),
    *("oăm", "oăn", "oăng", "oăt", "oăc"),
    *("oe", "oeo", "oen", "oet"),
    *("uân", "uâng", "uât", "uây"),
    *("uê", "uên", "uênh", "uêt", "uêch"),
    "uơ",
    *("uy", "uya", "uyu", "uyn", "uynh", "uyt", "uych", "uyên", "uyêt"),
)

RHYMES: tuple[str, ...] = PLAIN_RHYMES + GLIDE_RHYMES

_VOWELS = frozenset("aăâeêioôơuưy")
_MARKED_VOWELS = frozenset("ăâêôơư")
_STOP_CODAS = ("p", "t", "c", "ch")
_FRONT_STARTS = frozenset("ieêy")
# onsets that combine with the w-glide (qu is the glide after /k/ and is handled apart)
_GLIDE_ONSETS = frozenset(
    {"", "h", "kh", "t", "th", "x", "l", "ng", "nh", "ch", "tr", "s", "d", "đ", "g", "n"}
)
_QU_ONLY = frozenset({"uên", "uêt"})  # "quên", "quết"
_NO_QU = frozenset({"oam", "oăm", "uya", "uyu"})
_Y_ONSETS = frozenset({"", "h", "k", "l", "m", "s", "t", "v", "x"})  # "ý", "hy", "kỹ", "lý", ...
_P_RHYMES = frozenset({"a", "e", "ê", "i", "ia", "in", "o", "ô", "ơ", "u", "ăng"})  # loanwords
_LOAN_RHYMES = frozenset({"oong", "ooc"})
_LOAN_ONSETS = frozenset({"", "b", "c", "ch", "đ", "l", "m", "r", "s", "t", "th", "v", "x"})
# attested loanword syllables the rules above do not generate
_EXTRA_SYLLABLES: tuple[tuple[str, str, str, str], ...] = (("buýt", "b", "uyt", "sắc"),)


@dataclass(frozen=True, order=True)
class Syllable:
    """One written syllable and the parts it was built from (``rhyme`` as in ``RHYMES``)."""

    text: str
    onset: str
    rhyme: str
    tone: str


def is_stop_rhyme(rhyme: str) -> bool:
    """Rhymes ending in p, t, c or ch take only the sắc and nặng tones."""
    return rhyme.endswith(_STOP_CODAS)


def tones_for(rhyme: str) -> tuple[str, ...]:
    return STOP_TONES if is_stop_rhyme(rhyme) else TONES


def spell_parts(onset: str, rhyme: str) -> tuple[str, str] | None:
    """The written onset and written (toneless) rhyme of ``onset`` + ``rhyme``, or ``None`` when
    the spelling rules forbid the pair (``("c", "i")``: /k/ before i is written k)."""
    if onset not in ONSETS or rhyme not in RHYMES:
        return None
    glide = rhyme in GLIDE_RHYMES
    if onset == "qu":
        # the glide is written by the u of qu: "qua", "quê", "quý", "quyền"; plus "quốc"
        if glide and rhyme not in _NO_QU:
            return "qu", rhyme[1:]
        return ("qu", rhyme) if rhyme == "ôc" else None
    if rhyme in _QU_ONLY or (glide and onset not in _GLIDE_ONSETS):
        return None
    if onset == "g" and glide and not rhyme.startswith("o"):
        return None  # "góa", but no g + uy
    front = rhyme[0] in _FRONT_STARTS
    if onset in ("c", "g", "ng") and front:
        return None  # before i e ê y: k, gh, ngh ("ki", "ghi", "nghi")
    if onset in ("k", "gh", "ngh") and (not front or glide):
        return None
    if onset in ("gh", "ngh") and rhyme.startswith("y"):
        return None
    if rhyme == "y" and onset not in _Y_ONSETS:
        return None
    if onset == "p" and rhyme not in _P_RHYMES:
        return None
    if rhyme in _LOAN_RHYMES and onset not in _LOAN_ONSETS:
        return None
    if onset == "gi":
        if glide or rhyme in ("y", "ia", "iu"):
            return None  # "gia", "giu" are gi + a, gi + u
        if rhyme.startswith("i"):
            return "g", rhyme  # "gì", "gìn", "giếng": the i of gi merges with the rhyme's
    if onset == "" and rhyme.startswith("iê"):
        return "", "y" + rhyme[1:]  # "yên", "yêu"
    return onset, rhyme


def tone_position(written_rhyme: str) -> int:
    """Index of the letter that carries the tone mark in a written rhyme (old style, as in the
    corpus): a vowel with a hat, breve or horn (the last one in ươ); else the last vowel of a
    closed rhyme; else the first of two vowels ("hòa", "thủy", "của") or the middle of three
    ("ngoài", "khuỷu")."""
    vowels = [i for i, ch in enumerate(written_rhyme) if ch in _VOWELS]
    if not vowels:
        raise InputError(f"rhyme {written_rhyme!r} has no vowel")
    marked = [i for i in vowels if written_rhyme[i] in _MARKED_VOWELS]
    if marked:
        return marked[-1]
    if written_rhyme[-1] not in _VOWELS:
        return vowels[-1]
    return vowels[0] if len(vowels) <= 2 else vowels[1]


def apply_tone(written_rhyme: str, tone: str) -> str:
    if tone not in _TONE_MARK and tone != "ngang":
        raise InputError(f"unknown tone {tone!r}; use one of {', '.join(TONES)}")
    if tone == "ngang":
        return written_rhyme
    at = tone_position(written_rhyme) + 1
    return unicodedata.normalize("NFC", written_rhyme[:at] + _TONE_MARK[tone] + written_rhyme[at:])


def make_syllable(onset: str, rhyme: str, tone: str) -> str | None:
    """The written syllable (NFC, lower case), or ``None`` when the parts cannot go together."""
    parts = spell_parts(onset, rhyme)
    if parts is None or tone not in tones_for(rhyme):
        return None
    written_onset, written_rhyme = parts
    return unicodedata.normalize("NFC", written_onset + apply_tone(written_rhyme, tone))


@lru_cache(maxsize=1)
def syllable_entries() -> tuple[Syllable, ...]:
    """Every syllable of the inventory with its parts, sorted by text (one entry per text)."""
    by_text: dict[str, Syllable] = {}
    for onset in ONSETS:
        for rhyme in RHYMES:
            for tone in TONES:
                text = make_syllable(onset, rhyme, tone)
                if text is not None and text not in by_text:
                    by_text[text] = Syllable(text, onset, rhyme, tone)
    for text, onset, rhyme, tone in _EXTRA_SYLLABLES:
        by_text.setdefault(text, Syllable(text, onset, rhyme, tone))
    return tuple(sorted(by_text.values()))


@lru_cache(maxsize=1)
def syllable_inventory() -> frozenset[str]:
    """Every valid written Vietnamese syllable the spelling rules build (lower case, NFC).

    Orthographically and phonotactically well formed, not a dictionary: it also holds syllables
    no word happens to use, which still train the acoustic model on real letter-sound patterns.
    """
    return frozenset(entry.text for entry in syllable_entries())


def is_valid_syllable(s: str) -> bool:
    """Whether ``s`` (any case, any normalization form) is a syllable of the inventory."""
    return unicodedata.normalize("NFC", s.strip()).lower() in syllable_inventory()


def _tokens(line: str) -> list[str]:
    return normalize_transcript(line).split()


# --------------------------------------------------------------------------------------------
# Random syllable sequences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SyllableTables:
    entries: tuple[Syllable, ...]
    by_unit: dict[tuple[str, str], tuple[Syllable, ...]]
    units: tuple[tuple[str, str], ...]
    corpus: tuple[str, ...]
    corpus_cum: tuple[int, ...]


@lru_cache(maxsize=1)
def _syllable_tables() -> _SyllableTables:
    entries = syllable_entries()
    grouped: dict[tuple[str, str], list[Syllable]] = {}
    for e in entries:
        for unit in (("onset", e.onset), ("rhyme", e.rhyme), ("tone", e.tone)):
            grouped.setdefault(unit, []).append(e)
    counts = Counter(
        t for line in corpus_sentences("train") for t in _tokens(line) if is_valid_syllable(t)
    )
    corpus = tuple(sorted(counts))
    return _SyllableTables(
        entries=entries,
        by_unit={k: tuple(v) for k, v in grouped.items()},
        units=tuple(sorted(grouped)),
        corpus=corpus,
        corpus_cum=tuple(accumulate(counts[s] for s in corpus)),
    )


def _syllable_stream(rng: random.Random) -> Iterator[str]:
    """Syllables: first every onset, rhyme and tone once (in random order, between draws from
    the corpus), then half from the training corpus by frequency and half spread evenly over
    rhymes, onsets and tones so that rare units keep coming."""
    tables = _syllable_tables()

    def from_corpus() -> str:
        return rng.choices(tables.corpus, cum_weights=tables.corpus_cum)[0]

    units_of = {
        kind: [u for u in tables.units if u[0] == kind] for kind in ("onset", "rhyme", "tone")
    }

    def from_unit(kind: str) -> str:
        return rng.choice(tables.by_unit[rng.choice(units_of[kind])]).text

    coverage = list(tables.units)
    rng.shuffle(coverage)
    for unit in coverage:
        yield rng.choice(tables.by_unit[unit]).text
        yield from_corpus()
    while True:
        r = rng.random()
        if r < 0.5:
            yield from_corpus()
        elif r < 0.75:
            yield from_unit("rhyme")
        elif r < 0.9:
            yield from_unit("onset")
        else:
            yield from_unit("tone")


def _random_lines(seed: int, length_range: tuple[int, int]) -> Iterator[str]:
    low, high = length_range
    if not 1 <= low <= high:
        raise InputError(
            f"length_range must be (low, high) with 1 <= low <= high, not {length_range}"
        )
    rng = random.Random(f"ai2text-random-syllables:{seed}")  # noqa: S311
    stream = _syllable_stream(rng)
    while True:
        yield " ".join(next(stream) for _ in range(rng.randint(low, high)))


def random_syllable_sequences(
    n: int, seed: int, length_range: tuple[int, int] = (4, 10)
) -> list[str]:
    """``n`` lines of valid syllables, lower case, one space apart, ``length_range`` syllables each
    (inclusive). Every onset, rhyme and tone appears within the first hundred lines or so."""
    if n < 0:
        raise InputError("n must not be negative")
    lines = _random_lines(seed, length_range)
    return [next(lines) for _ in range(n)]


# --------------------------------------------------------------------------------------------
# Spelling out numbers, dates and times
# --------------------------------------------------------------------------------------------

DIGITS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
MAX_SPELLED = 999_999_999


def _spell_group(n: int, full: bool, linh: str) -> list[str]:
    """0 < n < 1000; ``full`` when a larger group came before ("không trăm linh năm")."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if hundreds or full:
                words.append(linh)
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
    else:
        words += [DIGITS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(units, DIGITS[units]))
    return words


def spell_number(n: int, *, linh: str = "linh", thousand: str = "nghìn") -> str:
    """``n`` (0 to 999,999,999) in words as it is read: 21 "hai mươi mốt", 24 "hai mươi tư",
    15 "mười lăm", 105 "một trăm linh năm", 2,024 "hai nghìn không trăm hai mươi tư".

    ``linh="lẻ"`` and ``thousand="ngàn"`` give the Southern forms. A group of zeros in the middle
    is skipped (1,000,500 "một triệu năm trăm").
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise InputError(f"spell_number needs an int, not {type(n).__name__}")
    if not 0 <= n <= MAX_SPELLED:
        raise InputError(f"spell_number covers 0 to {MAX_SPELLED:,}, not {n:,}")
    if linh not in ("linh", "lẻ") or thousand not in ("nghìn", "ngàn"):
        raise InputError("linh must be 'linh' or 'lẻ' and thousand 'nghìn' or 'ngàn'")
    if n == 0:
        return DIGITS[0]
    words: list[str] = []
    for value, scale in ((n // 1_000_000, "triệu"), (n // 1000 % 1000, thousand), (n % 1000, "")):
        if value:
            words += _spell_group(value, full=bool(words), linh=linh)
            if scale:
                words.append(scale)
    return " ".join(words)


def spell_digits(digits: str) -> str:
    """Digit by digit, as phone numbers are read: ``"0912"`` -> ``"không chín một hai"``."""
    if not digits.isascii() or not digits.isdigit():
        raise InputError(f"not a string of digits: {digits!r}")
    return " ".join(DIGITS[int(d)] for d in digits)


def spell_month(month: int) -> str:
    """ "tư" for April ("tháng tư"), the plain number otherwise."""
    if not 1 <= month <= 12:
        raise InputError(f"no month {month}")
    return "tư" if month == 4 else spell_number(month)


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def spell_date(day: int, month: int) -> str:
    """``spell_date(15, 3)`` -> ``"ngày mười lăm tháng ba"``; days 1 to 10 take "mùng"."""
    if not 1 <= month <= 12 or not 1 <= day <= (29 if month == 2 else _DAYS_IN_MONTH[month - 1]):
        raise InputError(f"no date {day}/{month}")
    prefix = "ngày mùng" if day <= 10 else "ngày"
    return f"{prefix} {spell_number(day)} tháng {spell_month(month)}"


def spell_time(hour: int, minute: int = 0) -> str:
    """``spell_time(7, 30)`` -> ``"bảy giờ ba mươi phút"``; ``spell_time(10)`` -> ``"mười giờ"``."""
    if not 0 <= hour <= 24 or not 0 <= minute <= 59:
        raise InputError(f"no time {hour}:{minute:02d}")
    text = f"{spell_number(hour)} giờ"
    return f"{text} {spell_number(minute)} phút" if minute else text


_PERIODS: tuple[tuple[str, int, int], ...] = (
    ("sáng", 5, 10),
    ("trưa", 11, 12),
    ("chiều", 1, 5),
    ("tối", 6, 10),
)


def _clock(rng: random.Random) -> str:
    period, low, high = rng.choice(_PERIODS)
    hour = rng.randint(low, high)
    style = rng.random()
    if style < 0.3:
        text = spell_time(hour)
    elif style < 0.55:
        text = spell_time(hour, rng.choice((5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55)))
    elif style < 0.7:
        text = spell_time(hour, rng.randint(1, 59))
    elif style < 0.82:
        text = f"{spell_time(hour)} rưỡi"
    elif style < 0.92:
        text = f"{spell_time(hour)} kém {spell_number(rng.choice((5, 10, 15, 20)))}"
    else:
        text = f"đúng {spell_time(hour)}"
    return f"{text} {period}" if rng.random() < 0.75 else text


def _date(rng: random.Random) -> str:
    month = rng.randint(1, 12)
    return spell_date(rng.randint(1, _DAYS_IN_MONTH[month - 1]), month)


def _price(rng: random.Random, low_k: int, high_k: int) -> str:
    """A round amount between ``low_k`` and ``high_k`` thousand đồng, in words."""
    value = rng.randint(low_k, high_k)
    step = 10 ** max(len(str(value)) - 2, 0)  # two significant figures
    value = max(low_k, value // step * step)
    return f"{spell_number(value * 1000)} đồng"


def _decimal(rng: random.Random) -> str:
    return f"{spell_number(rng.randint(0, 15))} phẩy {spell_number(rng.randint(1, 9))}"


def _phone(rng: random.Random) -> str:
    digits = "0" + rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(8))
    return ", ".join(spell_digits(part) for part in (digits[:4], digits[4:7], digits[7:]))


def _score(rng: random.Random) -> str:
    winner = rng.randint(1, 5)
    return f"{spell_number(winner)} {spell_number(rng.randint(0, winner - 1))}"


def _int_args(args: tuple[int, ...], count: int, name: str) -> tuple[int, ...]:
    if len(args) != count:
        raise InputError(f"{{{name}}} takes {count} numbers, not {len(args)}")
    return args


def _special_num(rng: random.Random, args: tuple[int, ...]) -> str:
    low, high = _int_args(args, 2, "num")
    return spell_number(rng.randint(low, high))


def _special_year(rng: random.Random, args: tuple[int, ...]) -> str:
    low, high = _int_args(args, 2, "year") if args else (1945, 2035)
    return spell_number(rng.randint(low, high))


def _special_price(rng: random.Random, args: tuple[int, ...]) -> str:
    low, high = _int_args(args, 2, "price") if args else (5, 5000)
    return _price(rng, low, high)


def _no_args(
    make: Callable[[random.Random], str],
) -> Callable[[random.Random, tuple[int, ...]], str]:
    def special(rng: random.Random, args: tuple[int, ...]) -> str:
        _int_args(args, 0, make.__name__.lstrip("_"))
        return make(rng)

    return special


def _month(rng: random.Random) -> str:
    return spell_month(rng.randint(1, 12))


# Slots computed rather than listed: {num:LO:HI}, {year} or {year:LO:HI}, {price} or
# {price:LO:HI} (thousands of đồng), {date}, {month}, {clock}, {decimal}, {phone}, {score}.
SPECIAL_SLOTS: dict[str, Callable[[random.Random, tuple[int, ...]], str]] = {
    "num": _special_num,
    "year": _special_year,
    "price": _special_price,
    "date": _no_args(_date),
    "month": _no_args(_month),
    "clock": _no_args(_clock),
    "decimal": _no_args(_decimal),
    "phone": _no_args(_phone),
    "score": _no_args(_score),
}

# --------------------------------------------------------------------------------------------
# Template sentences
# --------------------------------------------------------------------------------------------

# {name}, {name:1:20}, {name#a}: the same #key gives the same value within a sentence, and two
# different keys on one slot give different values.
_SLOT = re.compile(r"\{([a-z_]+)((?::\d+)*)(?:#([a-z0-9]+))?\}")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,?!;:])")
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Lexicon:
    templates: tuple[str, ...]
    slots: Mapping[str, tuple[str, ...]]

    def vocabulary(self) -> frozenset[str]:
        """Every distinct slot value (nested slots left as written)."""
        return frozenset(v for values in self.slots.values() for v in values)


def _check_lexicon(templates: tuple[str, ...], slots: Mapping[str, tuple[str, ...]]) -> None:
    for text in (*templates, *(v for values in slots.values() for v in values)):
        if any(ch.isdigit() for ch in _SLOT.sub("", text)):
            raise InputError(f"lexicon text with a digit: {text!r}")
        if unicodedata.normalize("NFC", text) != text:
            raise InputError(f"lexicon text not in NFC: {text!r}")
        for match in _SLOT.finditer(text):
            name = match.group(1)
            if name not in slots and name not in SPECIAL_SLOTS:
                raise InputError(f"unknown slot {{{name}}} in {text!r}")
            if name in SPECIAL_SLOTS and match.group(3):
                raise InputError(f"computed slot {{{name}}} cannot take a #key in {text!r}")


def parse_lexicon(data: Any) -> Lexicon:
    """A lexicon from its JSON value: ``{"templates": [...], "slots": {"name": [...]}}``."""
    if not isinstance(data, dict):
        raise InputError("lexicon must be a JSON object")
    raw_templates, raw_slots = data.get("templates"), data.get("slots")
    if not isinstance(raw_templates, list) or not all(isinstance(t, str) for t in raw_templates):
        raise InputError("lexicon 'templates' must be a list of strings")
    if not isinstance(raw_slots, dict):
        raise InputError("lexicon 'slots' must be an object of lists")
    slots: dict[str, tuple[str, ...]] = {}
    for name, values in raw_slots.items():
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise InputError(f"slot {name!r} must be a non-empty list of strings")
        if name in SPECIAL_SLOTS:
            raise InputError(f"slot {name!r} is computed and cannot be listed")
        slots[name] = tuple(values)
    templates = tuple(raw_templates)
    if not templates:
        raise InputError("lexicon has no templates")
    _check_lexicon(templates, slots)
    return Lexicon(templates=templates, slots=slots)


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The team's ``corpus/lexicon.json``."""
    text = resources.files("ai2text.text").joinpath("corpus", "lexicon.json").read_text("utf-8")
    return parse_lexicon(json.loads(text))


def _fill(
    text: str, lexicon: Lexicon, rng: random.Random, bound: dict[str, str], depth: int
) -> str:
    if depth > _MAX_DEPTH:
        raise InputError(f"slots nested deeper than {_MAX_DEPTH}: {text!r}")

    def replace(match: re.Match[str]) -> str:
        name, raw_args, key = match.group(1), match.group(2), match.group(3)
        args = tuple(int(a) for a in raw_args.split(":")[1:])
        if name in SPECIAL_SLOTS:
            return SPECIAL_SLOTS[name](rng, args)
        if key and f"{name}#{key}" in bound:
            return bound[f"{name}#{key}"]
        taken = {v for k, v in bound.items() if k.startswith(f"{name}#")}
        value = ""
        for _ in range(20):
            value = _fill(rng.choice(lexicon.slots[name]), lexicon, rng, bound, depth + 1)
            if not key or value not in taken:
                break
        if key:
            bound[f"{name}#{key}"] = value
        return value

    return _SLOT.sub(replace, text)


def _finish(sentence: str) -> str:
    sentence = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", sentence).strip())
    return unicodedata.normalize("NFC", sentence[:1].upper() + sentence[1:])


def fill_template(template: str, rng: random.Random, lexicon: Lexicon | None = None) -> str:
    """One sentence from ``template`` with every slot filled, first letter capitalised, NFC."""
    lexicon = lexicon or load_lexicon()
    return _finish(_fill(template, lexicon, rng, {}, 0))


def _template_lines(seed: int, lexicon: Lexicon) -> Iterator[str]:
    rng = random.Random(f"ai2text-template-sentences:{seed}")  # noqa: S311
    while True:
        yield fill_template(rng.choice(lexicon.templates), rng, lexicon)


# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _heldout_keys() -> frozenset[str]:
    return frozenset(normalize_transcript(s) for s in corpus_sentences("heldout"))


def _take_unique(
    lines: Iterator[str], n: int, excluded: frozenset[str], seen: set[str]
) -> list[str]:
    """The first ``n`` lines whose normalized form is neither excluded nor already seen."""
    out: list[str] = []
    attempts = 0
    limit = 50 * n + 1000
    while len(out) < n:
        attempts += 1
        if attempts > limit:
            raise InputError(
                f"only {len(out)} distinct lines after {limit} attempts; asked for {n}"
            )
        line = next(lines)
        key = normalize_transcript(line)
        if key and key not in excluded and key not in seen:
            seen.add(key)
            out.append(line)
    return out


def template_sentences(n: int, seed: int, exclude: Iterable[str] = ()) -> list[str]:
    """``n`` distinct template sentences (capitalised, punctuated, NFC, numbers in words), none
    of them a held-out or ``exclude`` sentence after normalization."""
    if n < 0:
        raise InputError("n must not be negative")
    excluded = _heldout_keys() | {normalize_transcript(s) for s in exclude}
    return _take_unique(_template_lines(seed, load_lexicon()), n, excluded, set())


def generate_corpus(
    n_template: int, n_random: int, seed: int, exclude: Iterable[str] = ()
) -> list[str]:
    """``n_template`` template sentences followed by ``n_random`` random syllable sequences, all
    distinct after lower-casing and stripping punctuation, and none equal (so normalized) to an
    ``exclude`` line or to a sentence of the package's ``heldout.txt``. Same seed, same list."""
    if n_template < 0 or n_random < 0:
        raise InputError("line counts must not be negative")
    excluded = _heldout_keys() | {normalize_transcript(s) for s in exclude}
    seen: set[str] = set()
    lines = _take_unique(_template_lines(seed, load_lexicon()), n_template, excluded, seen)
    lines += _take_unique(_random_lines(seed, (4, 10)), n_random, excluded, seen)
    return lines

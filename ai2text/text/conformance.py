"""Conformance against NeMo's Vietnamese text-processing test cases (``written~spoken`` lines,
one file per class and direction), reported as a pass rate per class.

The cases come from NVIDIA/NeMo-text-processing (Apache-2.0); they are read from the folder the
caller names (``../shared/data/tn/nemo_vi`` here) and never copied into the project. Where our
default conventions and NeMo's differ (``linh``/``lẻ``, reading ``không trăm``, the decimal mark),
the report is taken with NeMo's conventions and the cases that flip lists what depends on them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai2text.errors import InputError

DIRECTIONS = {"tn": "data_text_normalization", "itn": "data_inverse_text_normalization"}


@dataclass(frozen=True)
class Case:
    direction: str  # "tn" (written -> spoken) or "itn" (spoken -> written)
    kind: str  # the class: cardinal, date, ...
    written: str
    spoken: str

    @property
    def given(self) -> str:
        return self.written if self.direction == "tn" else self.spoken

    @property
    def expected(self) -> str:
        return self.spoken if self.direction == "tn" else self.written


@dataclass
class ClassScore:
    passed: int = 0
    total: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def load_cases(root: Path) -> list[Case]:
    """Every case under ``root`` (the folder holding the two ``data_*`` folders)."""
    cases = []
    for direction, folder in DIRECTIONS.items():
        for path in sorted((root / folder).glob("test_cases_*.txt")):
            kind = path.stem.removeprefix("test_cases_")
            for line in path.read_text(encoding="utf-8").splitlines():
                left, sep, right = line.partition("~")
                if not sep or not left.strip():
                    continue
                written, spoken = (left, right) if direction == "tn" else (right, left)
                cases.append(Case(direction, kind, written.strip(), spoken.strip()))
    if not cases:
        raise InputError(f"no test_cases_*.txt under {root}/data_*_normalization")
    return cases


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def score(cases: list[Case], convert: Callable[[Case], str]) -> dict[str, ClassScore]:
    """Pass rate per ``direction/class``, plus ``direction/all``."""
    scores: dict[str, ClassScore] = defaultdict(ClassScore)
    for case in cases:
        got = convert(case)
        for key in (f"{case.direction}/{case.kind}", f"{case.direction}/all"):
            scores[key].total += 1
            if _same(got, case.expected):
                scores[key].passed += 1
            elif not key.endswith("/all"):
                scores[key].failures.append(
                    {"given": case.given, "expected": case.expected, "got": got}
                )
    return dict(scores)


def report(scores: dict[str, ClassScore]) -> dict[str, Any]:
    return {
        key: {"passed": s.passed, "total": s.total, "rate": round(s.rate, 3)}
        for key, s in sorted(scores.items())
    }


NEMO_CONVENTIONS = {"decimal_mark": "."}  # where NeMo's choices differ from our defaults


def conformance_report(root: Path, failures: bool = False) -> dict[str, Any]:
    """Pass rates with NeMo's conventions, and the cases whose result depends on the convention
    (they pass with NeMo's and fail with our defaults, or the reverse)."""
    from ai2text.config import TextSettings
    from ai2text.text.postprocess import inverse_normalizer, normalizer

    cases = load_cases(root)

    def convert(settings: TextSettings) -> Callable[[Case], str]:
        tn, itn = normalizer(settings, False), inverse_normalizer(settings, False)
        return lambda c: tn.normalize(c.given) if c.direction == "tn" else itn.itn(c.given)

    nemo = TextSettings(**NEMO_CONVENTIONS)
    ours = TextSettings()
    with_nemo = score(cases, convert(nemo))
    with_ours = score(cases, convert(ours))
    failed_nemo = {(f["given"], f["expected"]) for s in with_nemo.values() for f in s.failures}
    failed_ours = {(f["given"], f["expected"]) for s in with_ours.values() for f in s.failures}
    body: dict[str, Any] = {
        "cases": str(root),
        "conventions": NEMO_CONVENTIONS,
        "pass_rate": report(with_nemo),
        "pass_rate_default_conventions": {
            k: v for k, v in report(with_ours).items() if k.endswith("/all")
        },
        "convention_dependent": sorted(
            f"{given} -> {expected}" for given, expected in failed_nemo ^ failed_ours
        ),
    }
    if failures:
        body["failures"] = {k: s.failures for k, s in with_nemo.items() if s.failures}
    return body

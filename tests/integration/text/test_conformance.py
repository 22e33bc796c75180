"""NeMo's Vietnamese text-processing test cases as a conformance test (skips without ../shared),
and the CLI that prints the report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ai2text.text.conformance import conformance_report
from tests.conftest import SHARED_DATA

CASES = SHARED_DATA / "tn" / "nemo_vi"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CASES.is_dir(), reason="needs ../shared/data/tn/nemo_vi"),
]


def test_each_direction_passes_at_least_90_percent() -> None:
    body = conformance_report(CASES, failures=True)
    rates = body["pass_rate"]
    assert rates["tn/all"]["total"] > 400 and rates["itn/all"]["total"] > 400
    assert rates["tn/all"]["rate"] >= 0.9, body.get("failures")
    assert rates["itn/all"]["rate"] >= 0.9, body.get("failures")
    # the decimal mark is the one convention where NeMo's choice and ours differ
    assert body["convention_dependent"]
    assert all("." in case.split(" -> ")[1] for case in body["convention_dependent"])


def test_cli_prints_the_report() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "text", "conformance", str(CASES)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert set(report["pass_rate"]) >= {"tn/all", "itn/all", "tn/cardinal", "itn/time"}

"""``ai2text bench text`` end to end: one JSON line per task, each beside its goal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ai2text.bench.text_bench import written_sentences
from ai2text.text.normalize import normalize

pytestmark = pytest.mark.integration


def test_bench_text_reports_every_task(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "bench", "text", "--repeats", "1"],
        env={**os.environ, "AI2TEXT_HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    lines = {line["task"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert set(lines) == {"normalize", "itn", "restore"}
    for line in lines.values():
        assert line["ours"] > 0 and line["threads"] == 1
        assert line["ratio"] == pytest.approx(line["ours"] / line["peer_value"], abs=0.01)
    assert 0.5 < lines["restore"]["syllable_accuracy"] <= 1


def test_bench_sentences_exercise_normalization() -> None:
    written = written_sentences(["xin chào"] * 200, seed=3)
    assert all(re.search(r"\d", line) or "thế kỷ" in line for line in written)
    assert not any(re.search(r"\d", normalize(line)) for line in written)

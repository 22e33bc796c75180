"""``ai2text bench pipeline`` end to end at a tiny size: the hot folder to the index against the
bare Transcriber. No timing threshold: the figures go to the README; this checks the measurement
is whole (every file indexed, both sides timed, the ratio their quotient)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ai2text.config import Settings

pytestmark = pytest.mark.integration


def test_bench_pipeline_times_both_sides(settings: Settings) -> None:
    assert settings.database_url is not None
    result = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "bench", "pipeline", "--files", "12"],
        env={**os.environ, "AI2TEXT_HOME": str(settings.home),
             "AI2TEXT_DATABASE_URL": settings.database_url.get_secret_value()},
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["metric"] for line in lines] == ["files_per_s", "audio_s_per_s"]
    files = lines[0]
    assert files["bench"] == "pipeline" and files["files"] == 12 and files["peer"]
    assert files["ours_s"] > 0 and files["peer_s"] > 0
    # the quotient of the printed times, within what rounding them and it to 3 decimals allows
    quotient = files["peer_s"] / files["ours_s"]
    rounding = quotient * (0.0005 / files["peer_s"] + 0.0005 / files["ours_s"]) + 0.0005
    assert files["ratio"] == pytest.approx(quotient, abs=rounding)
    assert lines[1]["ours"] == pytest.approx(files["audio_s"] / files["ours_s"], rel=0.02)

"""The serving benchmarks against the session's platform (which serves the bundled bootstrap
model until the hot-swap test in ``test_http.py`` promotes another), and ``bench stream`` end to
end through the CLI with its own platform."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from ai2text.asr.model import AsrModel
from ai2text.bench.asr_bench import SpeechFile, build_mixed_set
from tests.integration.conftest import TrainedModel
from tests.integration.serve.conftest import Platform

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> list[SpeechFile]:
    folder = tmp_path_factory.mktemp("bench-speech")
    return build_mixed_set(folder, 3, seed=1, gap_s=0.8, min_s=3.0, max_s=8.0)


def bootstrap_model() -> tuple[AsrModel, str]:
    from ai2text.asr.bootstrap import bundled_bootstrap
    from ai2text.asr.model import load_model

    bundled = bundled_bootstrap()
    assert bundled is not None
    return load_model(bundled.path), bundled.version


def test_http_bench_compares_the_route_with_the_in_process_transcriber(
    platform: Platform, speech: list[SpeechFile]
) -> None:
    from ai2text.bench.http_bench import bench_asr_http

    model, version = bootstrap_model()
    result = bench_asr_http(
        model, version, [f.path for f in speech], platform.url, platform.token("bench"),
        clients=2, batch_size=4, repeats=1,
    ).to_json()  # fmt: skip
    assert result["files"] == 3 and result["model"] == version
    assert result["ours"] > 0 and result["peer_value"] > 0
    assert result["ratio"] == pytest.approx(result["ours"] / result["peer_value"], rel=0.01)
    assert result["text_agreement"] >= 2 / 3
    assert 0 < result["request_latency_ms"]["p50"] <= result["request_latency_ms"]["p95"]


def test_http_bench_refuses_to_compare_different_models(
    platform: Platform, speech: list[SpeechFile], trained_tiny: TrainedModel
) -> None:
    from ai2text.asr.model import load_model
    from ai2text.bench.http_bench import bench_asr_http
    from ai2text.errors import StorageError

    other = load_model(trained_tiny.path)
    with pytest.raises(StorageError, match="compare the same model"):
        bench_asr_http(
            other, "not-served", [f.path for f in speech], platform.url, platform.token("bench"),
            clients=2, batch_size=4, repeats=1,
        )  # fmt: skip


def test_stream_bench_scores_streams_against_offline(
    platform: Platform, speech: list[SpeechFile]
) -> None:
    from ai2text.bench.stream_bench import bench_stream

    model, version = bootstrap_model()
    lines = bench_stream(
        model, version, speech, platform.url, platform.token("bench"),
        streams=(1, 3),
    )  # fmt: skip
    assert [line["streams"] for line in lines] == [1, 3]
    for line in lines:
        assert line["partials"] >= 4 * line["streams"]  # partials every 0.25 s of >= 3 s
        assert 0 < line["partial_latency_ms"]["p50"] <= line["partial_latency_ms"]["p95"]
        assert line["peer_value"] < 0.5  # the bootstrap model reads this speech
        assert line["cer_gap_points"] == pytest.approx(
            100 * (line["ours"] - line["peer_value"]), abs=0.01
        )
    assert abs(lines[-1]["cer_gap_points"]) <= 10


def test_bench_stream_cli_runs_its_own_platform(platform: Platform) -> None:
    """A second ``ai2text serve`` (its own local Ray) over the same stores, on another port."""
    result = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "bench", "stream", "--streams", "1"],
        env=platform.env, capture_output=True, text=True, timeout=500, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["bench"] == "stream" and line["streams"] == 1
    assert line["partials"] > 0 and line["peer"].startswith("offline")
    assert line["model"] == json.loads(httpx.get(f"{platform.url}/health").text)["model_version"]

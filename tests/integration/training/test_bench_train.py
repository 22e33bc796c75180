"""``bench train`` and ``bench asr`` produce whole measurements: both sides, in one run, with the
ratio of the two. No timing threshold: the figures go to the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai2text.asr.training import TrainConfig
from ai2text.audio.synth import SynthOptions, synthesize
from ai2text.bench.train_bench import bench_train
from ai2text.data.manifest import read_manifest
from ai2text.text.corpus import corpus_sentences


@pytest.mark.integration
def test_bench_train_reports_both_loops(tmp_path: Path) -> None:
    report = synthesize(
        corpus_sentences("train")[:8], tmp_path / "d", SynthOptions(), progress=False
    )
    config = TrainConfig(
        max_steps=4, batch_seconds=10.0, warmup_steps=1, log_every=1, checkpoint_every=4
    )
    lines = {
        line["metric"]: line
        for line in bench_train(config, read_manifest(report.manifest), str(tmp_path / "runs"))
    }
    assert set(lines) == {
        "samples_per_s",
        "audio_seconds_per_s",
        "padding_fraction",
        "peak_rss_mb",
        "ray_run_wall_s",
    }
    for metric in ("samples_per_s", "audio_seconds_per_s"):
        line = lines[metric]
        assert line["ours"] > 0 and line["peer_value"] > 0
        assert line["ratio"] == pytest.approx(line["ours"] / line["peer_value"], rel=0.01)
    assert 0 <= lines["padding_fraction"]["ours"] < 1


@pytest.mark.integration
def test_bench_asr_reports_both_sides(tmp_path: Path) -> None:
    from ai2text.asr.model import build_model
    from ai2text.bench.asr_bench import bench_asr, build_mixed_set

    paths = [f.path for f in build_mixed_set(tmp_path, 3)]
    result = bench_asr(build_model("tiny"), "fresh tiny", paths, batch_size=2, repeats=1).to_json()
    assert result["files"] == 3 and result["audio_s"] > 3
    assert result["ours"] > 0 and result["peer_value"] > 0
    assert result["ratio"] == pytest.approx(result["ours"] / result["peer_value"], rel=0.01)
    assert len(result["ours_runs"]) == len(result["peer_runs"]) == 1

"""The training batch loader: packed batches stay packed under speed perturbation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ai2text.asr.training import BatchLoader, TrainConfig
from ai2text.audio.transcoder import SAMPLE_RATE
from ai2text.audio.wav import write_wav
from ai2text.data.manifest import ManifestRow


def test_one_speed_per_batch_keeps_the_packing(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows, originals = [], []
    for i in range(40):
        seconds = 1.0 + 0.05 * i
        path = tmp_path / f"{i}.wav"
        originals.append(int(seconds * SAMPLE_RATE))
        write_wav(path, 0.1 * rng.standard_normal(originals[-1]), SAMPLE_RATE)
        rows.append(ManifestRow(str(path), "ab", seconds, f"spk{i % 3}"))
    config = TrainConfig(batch_seconds=8.0, speed_perturb=(0.9, 1.1))
    loader = BatchLoader(rows, lambda text: [1] * len(text), 0.04, config, seed=3)
    assert len(loader.rows) == len(rows)
    batches = loader.batches()
    speeds = []
    for group in loader.epoch(0):
        epoch, batch = next(batches)
        assert epoch == 0
        factors = [originals[i] / n for i, n in zip(group, batch.lengths.tolist(), strict=True)]
        assert max(factors) == pytest.approx(min(factors), rel=1e-3)  # one speed in a batch
        assert 0.9 <= factors[0] <= 1.1
        packed = 1 - sum(originals[i] for i in group) / (len(group) * originals[group[0]])
        assert 1 - batch.real_samples / batch.padded_samples == pytest.approx(packed, abs=2e-3)
        speeds.append(factors[0])
    assert len({round(s, 4) for s in speeds}) == len(speeds) > 1  # the speed varies by batch

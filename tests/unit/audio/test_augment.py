from __future__ import annotations

import numpy as np
import pytest

from ai2text.audio.augment import add_noise, apply_gain, change_speed, snr_db


def tone(seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.mark.parametrize("target", [0.0, 10.0, 25.0])
def test_noise_reaches_the_requested_snr(target: float) -> None:
    clean = tone()
    noisy = add_noise(clean, target, np.random.default_rng(1))
    assert snr_db(clean, noisy) == pytest.approx(target, abs=0.1)


def test_gain_in_decibels() -> None:
    louder = apply_gain(tone(), 6.0)
    assert float(np.max(np.abs(louder))) == pytest.approx(0.5 * 10 ** (6 / 20), rel=1e-3)


def test_speed_changes_duration() -> None:
    assert change_speed(tone(2.0), 1.25).size == round(32000 / 1.25)
    assert change_speed(tone(2.0), 0.8).size == round(32000 / 0.8)
    with pytest.raises(ValueError, match="positive"):
        change_speed(tone(), 0)

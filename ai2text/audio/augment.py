"""Augmentations for synthetic speech: noise at a chosen SNR, gain, and speed perturbation."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]


def add_noise(samples: Samples, snr_db: float, rng: np.random.Generator) -> Samples:
    """Mix in pink-ish noise so that signal power / noise power equals ``snr_db``."""
    if samples.size == 0:
        return samples
    white = rng.standard_normal(samples.size)
    # a short low-pass tilts white noise toward the spectrum of rooms and hum
    pink = np.convolve(white, [0.5, 0.3, 0.2], mode="same")
    signal_power = float(np.mean(samples.astype(np.float64) ** 2)) or 1e-12
    noise_power = float(np.mean(pink**2)) or 1e-12
    scale = np.sqrt(signal_power / (noise_power * 10 ** (snr_db / 10)))
    noisy: Samples = (samples + scale * pink).astype(np.float32)
    return noisy


def apply_gain(samples: Samples, gain_db: float) -> Samples:
    return (samples * 10 ** (gain_db / 20)).astype(np.float32)


def change_speed(samples: Samples, factor: float) -> Samples:
    """Play ``factor`` times faster (pitch moves with it, as in Kaldi's speed perturbation)."""
    if factor <= 0:
        raise ValueError("speed factor must be positive")
    if samples.size == 0 or factor == 1.0:
        return samples
    n_out = max(1, round(samples.size / factor))
    positions = np.linspace(0, samples.size - 1, n_out)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


def snr_db(clean: Samples, noisy: Samples) -> float:
    """The SNR of ``noisy`` against its ``clean`` original, in dB."""
    noise = noisy.astype(np.float64) - clean.astype(np.float64)
    return float(10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean(noise**2)))

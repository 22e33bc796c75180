"""Synthetic Vietnamese speech from text with espeak-ng, for bootstrapping models and for tests.

Each sentence gets a voice (vi, vi-vn-x-central, vi-vn-x-south), a variant, a speaking rate and a
pitch drawn from a generator seeded by (seed, sentence index), so every utterance's parameters
are reproducible and any one can be rebuilt alone. The samples themselves vary by a few
milliseconds between runs: espeak-ng's pitch flutter advances a process-wide counter that its API
cannot reset. Optional augmentation adds noise at an SNR drawn from a range,
gain, and speed perturbation. Output: 16 kHz mono WAV files and a NeMo manifest
(``audio_filepath``, ``text``, ``duration``, ``speaker``), where ``text`` is the normalized
transcript and ``speaker`` the voice with its variant.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ai2text.audio.augment import add_noise, apply_gain, change_speed
from ai2text.audio.espeak import Espeak, VoiceSettings
from ai2text.audio.transcoder import SAMPLE_RATE
from ai2text.audio.voices import VARIANTS, VOICES
from ai2text.audio.wav import write_wav
from ai2text.errors import InputError
from ai2text.text.transcript import normalize_transcript

Range = tuple[float, float]


@dataclass(frozen=True)
class SynthOptions:
    voices: tuple[str, ...] = VOICES
    variants: tuple[str | None, ...] = (None, *VARIANTS)
    rate_wpm: tuple[int, int] = (135, 185)
    pitch: tuple[int, int] = (35, 65)
    seed: int = 0
    noise_snr_db: Range | None = None
    noise_probability: float = 1.0
    gain_db: Range | None = None
    speed: Range | None = None

    def __post_init__(self) -> None:
        for voice in self.voices:
            VoiceSettings(voice=voice)
        for variant in self.variants:
            VoiceSettings(variant=variant)
        if not self.voices or not self.variants:
            raise InputError("give at least one voice and one variant")
        for name, bounds in (
            ("rate", self.rate_wpm),
            ("pitch", self.pitch),
            ("noise SNR", self.noise_snr_db),
            ("gain", self.gain_db),
            ("speed", self.speed),
        ):
            if bounds is not None and bounds[0] > bounds[1]:
                raise InputError(f"{name} range must be LOW HIGH with LOW <= HIGH")
        if self.speed is not None and self.speed[0] <= 0:
            raise InputError("speed factors must be positive")
        if not 0 <= self.noise_probability <= 1:
            raise InputError("noise probability must be between 0 and 1")


@dataclass(frozen=True)
class Utterance:
    audio_filepath: str
    text: str
    duration: float
    speaker: str
    rate_wpm: int
    pitch: int
    snr_db: float | None = None
    gain_db: float | None = None
    speed: float | None = None


@dataclass(frozen=True)
class SynthReport:
    manifest: Path
    utterances: int
    hours: float
    speakers: int
    skipped: list[str] = field(default_factory=list)


def read_sentences(path: Path) -> list[str]:
    """Non-empty lines of a UTF-8 text file; lines starting with # are comments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read sentences from {path}: {exc}") from exc
    sentences = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not sentences:
        raise InputError(f"{path} holds no sentences")
    return sentences


def _voice_for(index: int, options: SynthOptions) -> tuple[VoiceSettings, np.random.Generator]:
    rng = np.random.default_rng([options.seed, index])
    voice = VoiceSettings(
        voice=options.voices[int(rng.integers(len(options.voices)))],
        variant=options.variants[int(rng.integers(len(options.variants)))],
        rate_wpm=int(rng.integers(options.rate_wpm[0], options.rate_wpm[1] + 1)),
        pitch=int(rng.integers(options.pitch[0], options.pitch[1] + 1)),
        pitch_range=int(rng.integers(30, 71)),
    )
    return voice, rng


def synthesize_one(
    engine: Espeak, index: int, sentence: str, options: SynthOptions, out_dir: Path
) -> Utterance | None:
    """Synthesize sentence ``index``; None when espeak-ng produced no audio for it."""
    from scipy.signal import resample_poly

    voice, rng = _voice_for(index, options)
    # draw every parameter before touching audio, so they never depend on its length
    speed = round(float(rng.uniform(*options.speed)), 3) if options.speed else None
    noisy = options.noise_snr_db is not None and rng.random() < options.noise_probability
    snr = (
        round(float(rng.uniform(*options.noise_snr_db)), 1)
        if options.noise_snr_db and noisy
        else None
    )
    gain = round(float(rng.uniform(*options.gain_db)), 1) if options.gain_db else None
    noise_rng = np.random.default_rng(rng.integers(2**63))
    raw = engine.speak(sentence, voice)
    if raw.size == 0:
        return None
    divisor = np.gcd(SAMPLE_RATE, engine.sample_rate)
    samples = resample_poly(raw, SAMPLE_RATE // divisor, engine.sample_rate // divisor)
    samples = (0.9 * samples / max(1e-6, float(np.max(np.abs(samples))))).astype(np.float32)
    if speed is not None:
        samples = change_speed(samples, speed)
    if snr is not None:
        samples = add_noise(samples, snr, noise_rng)
    if gain is not None:
        samples = apply_gain(samples, gain)
    path = out_dir / "audio" / f"{index:06d}.wav"
    write_wav(path, samples, SAMPLE_RATE)
    return Utterance(
        audio_filepath=str(path.resolve()),
        text=normalize_transcript(sentence),
        duration=round(samples.size / SAMPLE_RATE, 3),
        speaker=voice.voice if voice.variant is None else f"{voice.voice}+{voice.variant}",
        rate_wpm=voice.rate_wpm,
        pitch=voice.pitch,
        snr_db=snr,
        gain_db=gain,
        speed=speed,
    )


_worker_engine: Espeak | None = None
_worker_args: tuple[SynthOptions, Path] | None = None


def _init_worker(options: SynthOptions, out_dir: Path) -> None:
    global _worker_engine, _worker_args
    _worker_engine = Espeak()
    _worker_args = (options, out_dir)


def _work(item: tuple[int, str]) -> Utterance | None:
    assert _worker_engine is not None  # set by _init_worker
    assert _worker_args is not None
    return synthesize_one(_worker_engine, item[0], item[1], *_worker_args)


def _results(
    sentences: Sequence[str], options: SynthOptions, out_dir: Path, workers: int
) -> Iterator[Utterance | None]:
    items = list(enumerate(sentences))
    if workers <= 1:
        engine = Espeak()
        for index, sentence in items:
            yield synthesize_one(engine, index, sentence, options, out_dir)
        return
    with mp.get_context("spawn").Pool(workers, _init_worker, (options, out_dir)) as pool:
        yield from pool.imap(_work, items, chunksize=16)


def synthesize(
    sentences: Sequence[str],
    out_dir: Path,
    options: SynthOptions,
    *,
    workers: int = 1,
    progress: bool = True,
) -> SynthReport:
    """Speak every sentence; write ``out_dir/audio/*.wav`` and ``out_dir/manifest.jsonl``."""
    from tqdm import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    utterances: list[Utterance] = []
    skipped: list[str] = []
    results = _results(sentences, options, out_dir, workers)
    bar: Any = tqdm(results, total=len(sentences), unit="utt", disable=not progress, desc="synth")
    for sentence, result in zip(sentences, bar, strict=True):
        if result is None:
            skipped.append(sentence)
        else:
            utterances.append(result)
    manifest = out_dir / "manifest.jsonl"
    tmp = manifest.with_name(".manifest.jsonl.part")
    with open(tmp, "w", encoding="utf-8") as handle:
        for utterance in utterances:
            row = {k: v for k, v in asdict(utterance).items() if v is not None}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(manifest)
    return SynthReport(
        manifest=manifest,
        utterances=len(utterances),
        hours=sum(u.duration for u in utterances) / 3600,
        speakers=len({u.speaker for u in utterances}),
        skipped=skipped,
    )

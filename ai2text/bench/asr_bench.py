"""``ai2text bench asr``: RTFx of our Transcriber beside NeMo's ``model.transcribe()``.

Both run the same model on the same files (WAV on disk, so both include reading them), with the
same batch size, on the same machine, in one run: the two alternate ``repeats`` times and the
medians are compared. RTFx is seconds of audio per second of wall time. The set is >= 100 files
of 1-20 s, built from the team corpus with espeak-ng (each file a run of sentences in one voice)
unless a folder of WAV files is given. Both sides decode greedily; the share
of files where the two texts agree is reported as a check that they computed the same thing.

``ai2text bench asr --http`` puts the platform's HTTP route beside the same in-process
Transcriber: see :mod:`ai2text.bench.http_bench`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ai2text.asr.model import AsrModel
from ai2text.config import AudioSettings


@dataclass(frozen=True)
class RtfxComparison:
    """RTFx of our side and the peer over alternating runs on the same files, compared by their
    medians; ``agreement`` is the share of files where both gave the same text."""

    files: int
    audio_s: float
    batch_size: int
    model: str
    ours_runs: list[float]
    peer_runs: list[float]
    agreement: float

    @property
    def ours_rtfx(self) -> float:
        return float(np.median(self.ours_runs))

    @property
    def peer_rtfx(self) -> float:
        return float(np.median(self.peer_runs))

    def rtfx_json(self, bench: str, peer: str) -> dict[str, Any]:
        return {
            "bench": bench,
            "metric": "rtfx",
            "unit": "audio seconds per wall second",
            "ours": round(self.ours_rtfx, 1),
            "peer": peer,
            "peer_value": round(self.peer_rtfx, 1),
            "ratio": round(self.ours_rtfx / self.peer_rtfx, 3),
            "files": self.files,
            "audio_s": round(self.audio_s, 1),
            "batch_size": self.batch_size,
            "model": self.model,
            "text_agreement": round(self.agreement, 3),
            "ours_runs": [round(r, 1) for r in self.ours_runs],
            "peer_runs": [round(r, 1) for r in self.peer_runs],
        }


@dataclass(frozen=True)
class AsrBenchResult(RtfxComparison):
    device: str

    def to_json(self) -> dict[str, Any]:
        peer = "NeMo model.transcribe() (same model, files, batch size)"
        return {**self.rtfx_json("asr", peer), "device": self.device}


@dataclass(frozen=True)
class SpeechFile:
    path: Path
    text: str  # what was spoken: the reference
    duration_s: float


def build_mixed_set(
    out_dir: Path,
    files: int,
    seed: int = 0,
    gap_s: float = 0.0,
    min_s: float = 1.0,
    max_s: float = 20.0,
) -> list[SpeechFile]:
    """``files`` WAVs of about ``min_s``-``max_s`` s: whole sentences of the team corpus in one
    voice, ``gap_s`` of silence between them, each file's length drawn uniformly."""
    from ai2text.audio.espeak import Espeak
    from ai2text.audio.synth import SynthOptions, synthesize_one
    from ai2text.audio.transcoder import SAMPLE_RATE
    from ai2text.audio.wav import read_wav, write_wav
    from ai2text.text.corpus import corpus_sentences

    sentences = corpus_sentences("heldout") + corpus_sentences("train")
    rng = np.random.default_rng(seed)
    engine = Espeak()
    scratch = out_dir / "parts"
    gap = np.zeros(round(gap_s * SAMPLE_RATE), dtype=np.float32)
    built = []
    cursor = 0
    for index in range(files):
        target = float(rng.uniform(min_s, max_s))
        options = SynthOptions(seed=seed * 100_000 + index)
        pieces: list[np.ndarray] = []
        texts: list[str] = []
        while sum(p.size for p in pieces) / SAMPLE_RATE < target:
            sentence = sentences[cursor % len(sentences)]
            utterance = synthesize_one(engine, cursor, sentence, options, scratch)
            cursor += 1
            if utterance is None:
                continue
            samples, _ = read_wav(Path(utterance.audio_filepath))
            length_s = (sum(p.size for p in pieces) + gap.size + samples.size) / SAMPLE_RATE
            if pieces and length_s > max_s:
                break
            pieces.extend([gap, samples] if pieces else [samples])
            texts.append(utterance.text)
        audio = np.concatenate(pieces)
        path = out_dir / f"bench-{index:04d}.wav"
        write_wav(path, audio, SAMPLE_RATE)
        built.append(SpeechFile(path, " ".join(texts), audio.size / SAMPLE_RATE))
    return built


def bench_asr(
    model: AsrModel,
    model_label: str,
    paths: list[Path],
    *,
    batch_size: int = 16,
    repeats: int = 3,
) -> AsrBenchResult:
    import torch

    from ai2text.asr.transcriber import BatchingOptions, Transcriber
    from ai2text.audio.transcoder import SAMPLE_RATE, load_audio

    settings = AudioSettings()
    audio_s = sum(load_audio(p, settings).samples.size for p in paths) / SAMPLE_RATE
    batching = BatchingOptions(max_batch_size=batch_size, max_batch_seconds=batch_size * 20.0)
    module = model.module
    with Transcriber(model, model_version=model_label, batching=batching) as transcriber:
        warm = [load_audio(p, settings).samples for p in paths[:4]]
        transcriber.transcribe(warm)
        module.transcribe([str(p) for p in paths[:4]], batch_size=batch_size, verbose=False)

        peer_runs, ours_runs = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            hypotheses = module.transcribe(
                [str(p) for p in paths], batch_size=batch_size, verbose=False
            )
            peer_runs.append(audio_s / (time.perf_counter() - started))
            started = time.perf_counter()
            ours = transcriber.transcribe([load_audio(p, settings).samples for p in paths])
            ours_runs.append(audio_s / (time.perf_counter() - started))
        peer_texts = [h.text if hasattr(h, "text") else str(h) for h in hypotheses]
    agreement = float(
        np.mean(
            [
                " ".join(o.text.split()) == " ".join(p.split())
                for o, p in zip(ours, peer_texts, strict=True)
            ]
        )
    )
    return AsrBenchResult(
        files=len(paths),
        audio_s=audio_s,
        batch_size=batch_size,
        device="cuda" if torch.cuda.is_available() else "cpu",
        model=model_label,
        ours_runs=ours_runs,
        peer_runs=peer_runs,
        agreement=agreement,
    )


def print_result(result: AsrBenchResult) -> None:
    print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)

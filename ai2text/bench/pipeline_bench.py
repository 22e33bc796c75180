"""``ai2text bench pipeline``: files dropped in the hot folder until all are indexed, against the
bare Transcriber on the same audio.

Ours: the single-process pipeline (``ai2text pipeline run``: hot folder, ffmpeg decode, blobs,
PostgreSQL, transcription in batches of the stage, post-processing, MiniLM embeddings, the lexical
row and pgvector), timed from the drop until the last file is indexed. Peer: the same model's
``Transcriber.transcribe`` on the same decoded clips in one call (what the pipeline would be with
nothing around inference). Both use the production model with greedy decoding, in a scratch
database. Clips: synthetic Vietnamese sentences (espeak-ng), each with a different length of
trailing silence so every file is a distinct recording.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr

from ai2text.config import Settings


def _clips(folder: Path, count: int) -> list[tuple[str, np.ndarray]]:
    from ai2text.audio.synth import SynthOptions, synthesize
    from ai2text.audio.wav import read_wav
    from ai2text.text.corpus import corpus_sentences

    sentences = [s for s in corpus_sentences("train") if 3 <= len(s.split()) <= 12][:50]
    report = synthesize(sentences, folder, SynthOptions(voices=("vi",), seed=41), progress=False)
    rows = [json.loads(line) for line in report.manifest.read_text().splitlines()]
    waves = [read_wav(Path(str(row["audio_filepath"])))[0] for row in rows]
    return [
        (f"spk-{i % 10}/clip-{i:04d}.wav", np.concatenate([waves[i % len(waves)],
                                                            np.zeros(80 * (i + 1), np.float32)]))
        for i in range(count)
    ]  # fmt: skip


def bench_pipeline(settings: Settings, files: int) -> list[dict[str, Any]]:
    from ai2text.asr.model import load_model
    from ai2text.asr.transcriber import Transcriber
    from ai2text.audio.transcoder import SAMPLE_RATE
    from ai2text.audio.wav import write_wav
    from ai2text.bench.bus_bench import scratch_database
    from ai2text.bus.bus import open_bus
    from ai2text.pipeline.local import local_engines
    from ai2text.pipeline.runner import Pipeline
    from ai2text.registry.registry import ModelRegistry
    from ai2text.store.database import open_database
    from ai2text.store.vectors import PgVectorStore

    with (
        tempfile.TemporaryDirectory(prefix="ai2text-bench-pipeline-") as tmp,
        scratch_database(settings) as url,
    ):
        folder = Path(tmp)
        clips = _clips(folder / "speech", files)
        audio_s = sum(c.size for _, c in clips) / SAMPLE_RATE
        staged = folder / "staged"
        for name, samples in clips:
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            write_wav(staged / name, samples, SAMPLE_RATE)
        inbox = folder / "inbox"
        inbox.mkdir()
        local = settings.model_copy(update={
            "home": folder / "home", "database_url": SecretStr(url),
            "pipeline": settings.pipeline.model_copy(update={
                "hot_folder": inbox, "hot_folder_stable_s": 0.0, "hot_folder_poll_s": 0.1,
                "dataset_ready_hours": 1e6})})  # fmt: skip
        with open_database(local) as db:
            registry = ModelRegistry.from_settings(db, local)
            bus = open_bus(local, db)
            engines, asr = local_engines(local, registry)
            version = engines.version()
            pipeline = Pipeline(local, registry, bus, registry.blobs, PgVectorStore(db), engines,
                                training=False)  # fmt: skip
            engines.transcribe([clips[0][1]])  # load the model before the clock starts
            pipeline.start()
            started = time.perf_counter()
            for name in sorted({n.split("/")[0] for n, _ in clips}):
                shutil.copytree(staged / name, inbox / name)
            while True:
                with db.connection() as conn:
                    row = conn.execute("SELECT count(*) FROM search_documents").fetchone()
                if row is not None and row[0] >= files:
                    break
                time.sleep(0.05)
            ours_s = time.perf_counter() - started
            pipeline.stop()
            asr.close()
            bus.close()
            with Transcriber(load_model(registry.fetch(version)), model_version=version) as bare:
                bare.transcribe([clips[0][1]])
                started = time.perf_counter()
                bare.transcribe([c for _, c in clips])
                peer_s = time.perf_counter() - started
    common = {"bench": "pipeline", "files": files, "audio_s": round(audio_s, 1),
              "model": version, "peer": "bare Transcriber, one call"}  # fmt: skip
    return [
        {**common, "metric": "files_per_s", "ours": round(files / ours_s, 2),
         "peer_value": round(files / peer_s, 2), "ratio": round(peer_s / ours_s, 3),
         "ours_s": round(ours_s, 3), "peer_s": round(peer_s, 3)},
        {**common, "metric": "audio_s_per_s", "ours": round(audio_s / ours_s, 1),
         "peer_value": round(audio_s / peer_s, 1), "ratio": round(peer_s / ours_s, 3)},
    ]  # fmt: skip

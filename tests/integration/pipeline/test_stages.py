"""Transcribe and post-process stages as bus consumers, with the bundled bootstrap model, on real
PostgreSQL and blobs: results, the transcript JSON in blobs, the next events, and idempotency."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ai2text.bus.bus import EventBus, open_bus
from ai2text.bus.events import NLP_POSTPROCESSED, RECORDING_INGESTED, TRANSCRIPTION_COMPLETED
from ai2text.config import Settings, TextSettings
from ai2text.eval.metrics import score_corpus, score_utterance
from ai2text.pipeline.ingest import ingest_audio
from ai2text.pipeline.stages import PostprocessStage, TranscribeStage
from ai2text.store.blobs import BlobStore, open_blob_store, transcript_key
from ai2text.store.database import Database
from tests.conftest import BOOTSTRAP

pytestmark = pytest.mark.integration
VERSION = BOOTSTRAP
SENTENCES = ["xin chào các bạn", "hôm nay trời đẹp quá", "tôi có hai mươi lăm quyển sách"]


@pytest.fixture
def parts(settings: Settings, db: Database) -> Iterator[tuple[EventBus, BlobStore]]:
    bus = open_bus(settings, db)
    yield bus, open_blob_store(settings)
    bus.close()


@pytest.fixture(scope="module")
def transcriber() -> Iterator[Any]:
    from ai2text.asr.bootstrap import bundled_bootstrap
    from ai2text.asr.model import load_model
    from ai2text.asr.transcriber import Transcriber

    bundled = bundled_bootstrap()
    assert bundled is not None
    with Transcriber(load_model(bundled.path), model_version=bundled.version) as running:
        yield running


def test_recordings_flow_through_transcription_and_post_processing(
    parts: tuple[EventBus, BlobStore], settings: Settings, db: Database, transcriber: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    from ai2text.audio.synth import SynthOptions, synthesize

    bus, blobs = parts
    stage = TranscribeStage(transcriber.transcribe, lambda: VERSION, blobs, bus)
    post = PostprocessStage(blobs, bus, TextSettings())
    transcribe_worker = bus.worker("transcribe", [RECORDING_INGESTED], stage.handle)
    post_worker = bus.worker("postprocess", [TRANSCRIPTION_COMPLETED], post.handle)
    bus.subscribe("indexer", [NLP_POSTPROCESSED])
    report = synthesize(SENTENCES, tmp_path / "speech", SynthOptions(voices=("vi",), seed=5),
                        progress=False)  # fmt: skip
    rows = [json.loads(line) for line in report.manifest.read_text().splitlines()]
    ids = []
    for row in rows:
        data = Path(row["audio_filepath"]).read_bytes()
        ids.append(ingest_audio(db, blobs, bus, data, audio=settings.audio, source="upload",
                                actor="test").audio_id)  # fmt: skip
    assert transcribe_worker.run_once() == 3 and post_worker.run_once() == 3
    assert transcribe_worker.run_once() == 0 and post_worker.run_once() == 0

    with db.connection() as conn:
        found = conn.execute(
            "SELECT audio_id, status, text, text_clean, words FROM transcripts"
        ).fetchall()
        events = conn.execute(
            "SELECT type, count(*) FROM bus_events GROUP BY type ORDER BY type"
        ).fetchall()
    by_id = {r[0]: r for r in found}
    assert set(by_id) == set(ids) and all(r[1] == "done" for r in found)
    texts = [by_id[i][2] for i in ids]
    score = score_corpus([score_utterance(r["text"], t) for r, t in zip(rows, texts, strict=True)])
    assert score.cer < 0.15, texts
    assert all(by_id[i][4] for i in ids)  # words with times
    assert dict(events) == {RECORDING_INGESTED: 3, TRANSCRIPTION_COMPLETED: 3, NLP_POSTPROCESSED: 3}
    for audio_id in ids:
        body = json.loads(blobs.get_bytes(transcript_key(audio_id)))
        assert body["text"] == by_id[audio_id][2] and body["text_clean"] == by_id[audio_id][3]
        assert "corrections" in body


def test_a_redelivered_recording_is_not_transcribed_twice(
    parts: tuple[EventBus, BlobStore], settings: Settings, db: Database, transcriber: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    from ai2text.audio.synth import SynthOptions, synthesize
    from ai2text.bus.events import CloudEvent

    bus, blobs = parts
    calls = []

    def counted(samples: Any) -> Any:
        calls.append(len(samples))
        return transcriber.transcribe(samples)

    stage = TranscribeStage(counted, lambda: VERSION, blobs, bus)
    worker = bus.worker("transcribe", [RECORDING_INGESTED], stage.handle)
    report = synthesize(SENTENCES[:1], tmp_path / "s", SynthOptions(voices=("vi",), seed=6),
                        progress=False)  # fmt: skip
    path = Path(json.loads(report.manifest.read_text().splitlines()[0])["audio_filepath"])
    ingested = ingest_audio(db, blobs, bus, path.read_bytes(), audio=settings.audio,
                            source="upload", actor="test")  # fmt: skip
    assert worker.run_once() == 1
    again = CloudEvent(type=RECORDING_INGESTED, source="test",
                       data={"audio_id": str(ingested.audio_id),
                             "blob_key": f"audio/raw/{ingested.audio_id}.wav"})  # fmt: skip
    with db.connection() as conn:
        bus.publish(conn, again)  # the same recording announced again (another event id)
    assert worker.run_once() == 1
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM transcripts").fetchone() == (1,)
        completed = conn.execute(
            "SELECT count(*) FROM bus_events WHERE type = %s", (TRANSCRIPTION_COMPLETED,)
        ).fetchone()
    assert completed == (1,)  # the second delivery found the transcript and published nothing
    assert calls == [1]  # ... without running the model again

"""Pipeline stages as consumers of the event bus: ``recording.ingested`` -> transcribe ->
``transcription.completed`` -> post-process -> ``nlp.postprocessed``.

Each handler runs inside the worker's transaction: its rows, its blob and its next event commit
with the delivery's acknowledgement, so a stage killed at any line repeats nothing that committed
and loses nothing that did not. Work is keyed by (audio id, model version): a transcript that
exists is not made again, and the next event's idempotency key carries the same pair.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ai2text.asr.formats import transcript_json
from ai2text.asr.transcriber import Transcript
from ai2text.audio.wav import wav_samples
from ai2text.bus.bus import EventBus
from ai2text.bus.events import NLP_POSTPROCESSED, TRANSCRIPTION_COMPLETED, CloudEvent
from ai2text.config import TextSettings
from ai2text.store.blobs import BlobStore, transcript_key
from ai2text.store.database import Conn
from ai2text.text.postprocess import postprocess

Transcribe = Callable[[np.ndarray], Transcript]

_INSERT = """
INSERT INTO transcripts (audio_id, model_version, status, text, words, segments, confidence)
VALUES (%(audio_id)s, %(version)s, 'done', %(text)s, %(words)s, %(segments)s, %(confidence)s)
ON CONFLICT (audio_id, model_version) DO NOTHING
RETURNING id
"""


@dataclass
class TranscribeStage:
    """Consumer of ``recording.ingested``: the audio blob through ASR into a transcript row, its
    JSON in blobs (``transcripts/{audio_id}.json``) and ``transcription.completed``."""

    transcribe: Transcribe
    version: Callable[[], str]  # the model version the next transcription will come from
    blobs: BlobStore
    bus: EventBus

    def handle(self, event: CloudEvent, conn: Conn) -> None:
        data = event.data or {}
        audio_id = uuid.UUID(str(data["audio_id"]))
        done = conn.execute(
            "SELECT 1 FROM transcripts WHERE audio_id = %s AND model_version = %s",
            (audio_id, self.version()),
        ).fetchone()
        if done is not None:
            return  # this model already transcribed this audio: nothing to compute again
        samples = wav_samples(self.blobs.get_bytes(str(data["blob_key"])))
        transcript = self.transcribe(samples)
        body = transcript_json(transcript, str(audio_id))
        inserted = conn.execute(
            _INSERT,
            {
                "audio_id": audio_id,
                "version": transcript.model_version,
                "text": transcript.text,
                "words": json.dumps(body["words"], ensure_ascii=False),
                "segments": json.dumps(body["segments"], ensure_ascii=False),
                "confidence": transcript.confidence,
            },
        ).fetchone()
        if inserted is None:
            return  # this model already transcribed this audio
        self.blobs.put_bytes(
            transcript_key(audio_id), json.dumps(body, ensure_ascii=False).encode("utf-8")
        )
        self.bus.publish(conn, _next(TRANSCRIPTION_COMPLETED, audio_id, transcript.model_version))


@dataclass
class PostprocessStage:
    """Consumer of ``transcription.completed``: fillers and inverse normalization into
    ``text_clean`` (with the corrections in the transcript JSON), then ``nlp.postprocessed``."""

    blobs: BlobStore
    bus: EventBus
    settings: TextSettings

    def handle(self, event: CloudEvent, conn: Conn) -> None:
        data = event.data or {}
        audio_id, version = uuid.UUID(str(data["audio_id"])), str(data["model_version"])
        row = conn.execute(
            "SELECT text FROM transcripts WHERE audio_id = %s AND model_version = %s FOR UPDATE",
            (audio_id, version),
        ).fetchone()
        if row is None:
            return  # the recording was deleted meanwhile
        cleaned = postprocess(str(row[0] or ""), self.settings)
        conn.execute(
            "UPDATE transcripts SET text_clean = %s, updated_at = now() "
            "WHERE audio_id = %s AND model_version = %s",
            (cleaned.text, audio_id, version),
        )
        key = transcript_key(audio_id)
        body: dict[str, Any] = json.loads(self.blobs.get_bytes(key))
        body.update(cleaned.to_json())
        self.blobs.put_bytes(key, json.dumps(body, ensure_ascii=False).encode("utf-8"))
        self.bus.publish(conn, _next(NLP_POSTPROCESSED, audio_id, version))


def _next(kind: str, audio_id: uuid.UUID, version: str) -> CloudEvent:
    return CloudEvent(
        type=kind,
        source="ai2text/pipeline",
        subject=str(audio_id),
        data={"audio_id": str(audio_id), "model_version": version},
        idempotencykey=f"{kind}:{audio_id}:{version}",
    )

"""Pipeline stages as consumers of the event bus: ``recording.ingested`` -> transcribe ->
``transcription.completed`` -> post-process -> ``nlp.postprocessed`` -> index ->
``embeddings.indexed`` -> dataset accumulation -> ``dataset.ready`` (once per threshold crossing).

Each handler runs inside the worker's transaction: its rows, its blob and its next event commit
with the delivery's acknowledgement, so a stage killed at any line repeats nothing that committed
and loses nothing that did not. Work is keyed by (audio id, model version): a transcript that
exists is not made again, and the next event's idempotency key carries the same pair.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ai2text.asr.formats import transcript_json
from ai2text.asr.transcriber import Transcript
from ai2text.audio.wav import wav_samples
from ai2text.bus.bus import EventBus
from ai2text.bus.events import (
    DATASET_READY,
    EMBEDDINGS_INDEXED,
    NLP_POSTPROCESSED,
    TRANSCRIPTION_COMPLETED,
    CloudEvent,
)
from ai2text.config import TextSettings
from ai2text.data.builder import SelectionPolicy, selectable_hours
from ai2text.pipeline.loop import crossings
from ai2text.search.embedder import MAX_CHARS, Embed
from ai2text.search.index import index_recording, shown_texts
from ai2text.store.blobs import BlobStore, transcript_key
from ai2text.store.database import Conn
from ai2text.store.vectors import VectorStore
from ai2text.text.postprocess import postprocess

log = logging.getLogger(__name__)
TranscribeMany = Callable[[list[np.ndarray]], list[Transcript]]

_INSERT = """
INSERT INTO transcripts (audio_id, model_version, status, text, words, segments, confidence)
VALUES (%(audio_id)s, %(version)s, 'done', %(text)s, %(words)s, %(segments)s, %(confidence)s)
ON CONFLICT (audio_id, model_version) DO NOTHING
RETURNING id
"""


@dataclass
class TranscribeStage:
    """Consumer of ``recording.ingested``: the audio blob through ASR into a transcript row, its
    JSON in blobs (``transcripts/{audio_id}.json``) and ``transcription.completed``.

    :meth:`prepare` transcribes a claimed batch in one call (one batch on the in-process
    Transcriber; concurrent requests that Serve's ``@serve.batch`` groups with online traffic);
    :meth:`handle` commits each result, transcribing alone what the batch did not cover."""

    transcribe: TranscribeMany
    version: Callable[[], str]  # the model version the next transcription will come from
    blobs: BlobStore
    bus: EventBus
    _ready: dict[uuid.UUID, Transcript] = field(default_factory=dict, init=False, repr=False)

    def prepare(self, events: Sequence[CloudEvent]) -> None:
        self._ready.clear()
        wanted: list[uuid.UUID] = []
        samples: list[np.ndarray] = []
        version = self.version()
        with self.bus.db.connection() as conn:
            for event in events:
                data = event.data or {}
                audio_id = uuid.UUID(str(data["audio_id"]))
                if audio_id in wanted or not self._needed(conn, audio_id, version):
                    continue
                try:
                    samples.append(wav_samples(self.blobs.get_bytes(str(data["blob_key"]))))
                except Exception as exc:  # the handler meets it again and fails this event alone
                    log.debug("not batching %s: %s", audio_id, exc)
                    continue
                wanted.append(audio_id)
        if samples:
            self._ready.update(zip(wanted, self.transcribe(samples), strict=True))

    def handle(self, event: CloudEvent, conn: Conn) -> None:
        data = event.data or {}
        audio_id = uuid.UUID(str(data["audio_id"]))
        if not self._needed(conn, audio_id, self.version()):
            return  # deleted before its turn came, or this model already transcribed it
        transcript = self._ready.pop(audio_id, None)
        if transcript is None:
            samples = wav_samples(self.blobs.get_bytes(str(data["blob_key"])))
            (transcript,) = self.transcribe([samples])
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

    @staticmethod
    def _needed(conn: Conn, audio_id: uuid.UUID, version: str) -> bool:
        row = conn.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM transcripts t"
            " WHERE t.audio_id = a.id AND t.model_version = %s) FROM audio a WHERE a.id = %s",
            (version, audio_id),
        ).fetchone()
        return bool(row and row[0])


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


@dataclass
class IndexStage:
    """Consumer of ``nlp.postprocessed``: the recording's lexical row and dense vector, then
    ``embeddings.indexed``. :meth:`prepare` embeds a claimed batch's texts in one call."""

    vectors: VectorStore
    embed: Embed
    bus: EventBus
    _vectors: dict[str, list[float]] = field(default_factory=dict, init=False, repr=False)

    def prepare(self, events: Sequence[CloudEvent]) -> None:
        self._vectors.clear()
        ids = [uuid.UUID(str((event.data or {})["audio_id"])) for event in events]
        with self.bus.db.connection() as conn:
            texts = [text[:MAX_CHARS] for text in shown_texts(conn, ids).values()]
        unique = list(dict.fromkeys(texts))
        if unique:
            self._vectors.update(zip(unique, self.embed(unique), strict=True))

    def _embed(self, texts: list[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:  # changed since prepare, or prepare skipped: embed it now
            self._vectors.update(zip(missing, self.embed(missing), strict=True))
        return [self._vectors[t] for t in texts]

    def handle(self, event: CloudEvent, conn: Conn) -> None:
        data = event.data or {}
        audio_id, version = uuid.UUID(str(data["audio_id"])), str(data["model_version"])
        if index_recording(conn, self.vectors, self._embed, audio_id) is None:
            return  # deleted meanwhile, or nothing to index
        indexed = _next(EMBEDDINGS_INDEXED, audio_id, version)
        # one per incoming event: a correction's re-index is announced too
        self.bus.publish(
            conn, replace(indexed, idempotencykey=f"{EMBEDDINGS_INDEXED}:{event.idempotency_key}")
        )


@dataclass
class DatasetStage:
    """Consumer of ``embeddings.indexed``: counts the hours a dataset build would select, per
    split, and announces ``dataset.ready`` once each time the training split crosses another
    multiple of ``threshold_hours`` (the count of crossings only rises, so a deletion followed
    by new audio does not announce the same crossing twice). The count covers everything
    committed, so a batch handled in one transaction counts once."""

    bus: EventBus
    policy: SelectionPolicy
    threshold_hours: float
    _counted_in: int | None = field(default=None, init=False, repr=False)

    def handle(self, event: CloudEvent, conn: Conn) -> None:
        transaction = conn.execute("SELECT txid_current()").fetchone()
        if transaction is not None and transaction[0] == self._counted_in:
            return  # this batch's transaction already counted every recording
        self._counted_in = transaction[0] if transaction else None
        announced = conn.execute(
            "SELECT crossings FROM dataset_progress WHERE singleton FOR UPDATE"
        ).fetchone()
        hours = selectable_hours(conn, self.policy)
        crossed = crossings(hours.get("train", 0.0), self.threshold_hours)
        previous = int(announced[0]) if announced else 0
        conn.execute(
            "UPDATE dataset_progress SET hours = %s, crossings = greatest(crossings, %s),"
            " updated_at = now() WHERE singleton",
            (json.dumps(hours), crossed),
        )
        if crossed <= previous:
            return
        self.bus.publish(
            conn,
            CloudEvent(
                type=DATASET_READY,
                source="ai2text/pipeline",
                data={
                    "hours": hours,
                    "crossing": crossed,
                    "threshold_hours": self.threshold_hours,
                },
                idempotencykey=f"{DATASET_READY}:{crossed}",
            ),
        )


def _next(kind: str, audio_id: uuid.UUID, version: str) -> CloudEvent:
    return CloudEvent(
        type=kind,
        source="ai2text/pipeline",
        subject=str(audio_id),
        data={"audio_id": str(audio_id), "model_version": version},
        idempotencykey=f"{kind}:{audio_id}:{version}",
    )

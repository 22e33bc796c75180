"""Ingestion: any audio in, one 16 kHz mono WAV blob, one ``audio`` row, one event out.

The upload's SHA-256 identifies it: the same bytes ingested twice give the first ``audio_id`` back
with ``duplicate`` set, and nothing is written again. The row, its audit entry and the
``recording.ingested`` event commit in one transaction; the blob is written inside it, before the
commit, so a committed row always has its audio (a failed commit can leave an unreferenced blob,
never a row without one).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from ai2text.audio.transcoder import SAMPLE_RATE, decode_bytes
from ai2text.audio.wav import wav_bytes
from ai2text.bus.bus import EventBus
from ai2text.bus.events import RECORDING_INGESTED, CloudEvent
from ai2text.config import AudioSettings
from ai2text.store.blobs import BlobStore, audio_raw_key
from ai2text.store.database import Database
from ai2text.store.metadata import AudioRecord, Source, insert_audio
from ai2text.store.splits import Split


@dataclass(frozen=True)
class Ingested:
    audio_id: uuid.UUID
    duplicate: bool
    duration_s: float
    split: Split | None

    def to_json(self) -> dict[str, object]:
        return {
            "audio_id": str(self.audio_id),
            "duplicate": self.duplicate,
            "duration_s": self.duration_s,
            "split": self.split,
        }


def ingest_audio(
    db: Database,
    blobs: BlobStore,
    bus: EventBus,
    data: bytes,
    *,
    audio: AudioSettings,
    source: Source,
    actor: str,
    filename: str | None = None,
    speaker_id: str | None = None,
    reference_text: str | None = None,
) -> Ingested:
    """Decode, store and announce one recording (idempotent per file content)."""
    digest = hashlib.sha256(data).hexdigest()
    with db.connection() as conn:
        row = conn.execute("SELECT id, duration_s, split FROM audio WHERE sha256 = %s", (digest,))
        existing = row.fetchone()
    if existing is not None:
        return Ingested(existing[0], True, float(existing[1]), existing[2])
    decoded = decode_bytes(data, audio, filename or "upload")
    duration = round(decoded.duration_s, 3)
    record = AudioRecord(
        sha256=digest,
        source=source,
        duration_s=duration,
        sample_rate=SAMPLE_RATE,
        speaker_id=speaker_id,
        original_filename=(filename or None) and filename[:255],
        reference_text=reference_text,
    )
    with db.connection() as conn, conn.transaction():
        stored = insert_audio(conn, record, actor=actor)
        if stored.duplicate:  # the same file committed by someone else meanwhile
            return Ingested(stored.audio_id, True, duration, stored.split)
        key = audio_raw_key(stored.audio_id)
        blobs.put_bytes(key, wav_bytes(decoded.samples, SAMPLE_RATE))
        conn.execute("UPDATE audio SET blob_key = %s WHERE id = %s", (key, stored.audio_id))
        event = CloudEvent(
            type=RECORDING_INGESTED,
            source=f"ai2text/ingest/{source}",
            subject=str(stored.audio_id),
            data={
                "audio_id": str(stored.audio_id),
                "blob_key": key,
                "sha256": digest,
                "duration_s": duration,
                "speaker_id": speaker_id,
                "split": stored.split,
            },
            idempotencykey=f"{RECORDING_INGESTED}:{stored.audio_id}",
        )
        bus.publish(conn, event)
    return Ingested(stored.audio_id, False, duration, stored.split)

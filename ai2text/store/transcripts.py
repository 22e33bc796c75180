"""Transcripts as the API shows them, and human corrections.

A recording's transcript is its verified row if there is one, else its most recent machine row;
a recording with no row yet is ``pending``. A correction replaces the shown row's text, marks it
verified (the dataset builder then prefers it), writes an audit entry holding the previous text
and, given the bus, announces ``nlp.postprocessed`` so the search index takes the new text, all in
one transaction.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ai2text.bus.events import NLP_POSTPROCESSED, CloudEvent
from ai2text.errors import InputError, NotFoundError
from ai2text.store.database import Conn
from ai2text.store.metadata import record_audit

if TYPE_CHECKING:
    from ai2text.bus.bus import EventBus

Status = Literal["pending", "done", "failed"]
MAX_TEXT_CHARS = 100_000
HUMAN_VERSION = "human"

_SHOWN = """
SELECT t.id, t.status, t.text, t.text_clean, t.words, t.segments, t.confidence, t.model_version,
       t.verified, t.verified_by, t.error, t.updated_at
FROM transcripts t WHERE t.audio_id = %s
ORDER BY t.verified DESC, t.updated_at DESC LIMIT 1
"""


@dataclass(frozen=True)
class TranscriptView:
    audio_id: uuid.UUID
    status: Status
    text: str | None = None
    text_clean: str | None = None
    words: list[Any] | None = None
    segments: list[Any] | None = None
    confidence: float | None = None
    model_version: str | None = None
    verified: bool = False
    verified_by: str | None = None
    error: str | None = None
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "audio_id": str(self.audio_id),
            "status": self.status,
            "text": self.text,
            "text_clean": self.text_clean,
            "words": self.words or [],
            "segments": self.segments or [],
            "confidence": self.confidence,
            "model_version": self.model_version,
            "verified": self.verified,
            "verified_by": self.verified_by,
            "error": self.error,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def parse_audio_id(text: str) -> uuid.UUID:
    """An audio id from a URL; anything that is not a UUID names no recording."""
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise NotFoundError(f"no recording {text[:80]!r}") from exc


def _require_audio(conn: Conn, audio_id: uuid.UUID, lock: bool = False) -> None:
    query = "SELECT 1 FROM audio WHERE id = %s" + (" FOR UPDATE" if lock else "")
    if conn.execute(query, (audio_id,)).fetchone() is None:
        raise NotFoundError(f"no recording {audio_id}")


def get_transcript(conn: Conn, audio_id: uuid.UUID) -> TranscriptView:
    _require_audio(conn, audio_id)
    row = conn.execute(_SHOWN, (audio_id,)).fetchone()
    if row is None:
        return TranscriptView(audio_id, "pending")
    return TranscriptView(audio_id, *row[1:])


def correct_transcript(
    conn: Conn, audio_id: uuid.UUID, text: str, *, actor: str, bus: EventBus | None = None
) -> TranscriptView:
    """Store a human correction as the verified transcript (in the caller's connection)."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if not text:
        raise InputError("the corrected text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"the corrected text is over {MAX_TEXT_CHARS} characters")
    with conn.transaction():
        _require_audio(conn, audio_id, lock=True)
        row = conn.execute(_SHOWN, (audio_id,)).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO transcripts (audio_id, model_version, status, text, text_clean,"
                " verified, verified_by) VALUES (%s, %s, 'done', %s, %s, true, %s)",
                (audio_id, HUMAN_VERSION, text, text, actor),
            )
            previous = None
        else:
            conn.execute(
                "UPDATE transcripts SET text = %s, text_clean = %s, status = 'done', error = NULL,"
                " verified = true, verified_by = %s, updated_at = now() WHERE id = %s",
                (text, text, actor, row[0]),
            )
            previous = row[2]
        record_audit(
            conn,
            actor=actor,
            action="transcript.correct",
            entity_type="audio",
            entity_id=str(audio_id),
            detail={"previous_text": previous, "text": text},
        )
        if bus is not None:
            version = HUMAN_VERSION if row is None else str(row[7])
            bus.publish(
                conn,
                CloudEvent(
                    type=NLP_POSTPROCESSED,
                    source="ai2text/transcripts",
                    subject=str(audio_id),
                    data={"audio_id": str(audio_id), "model_version": version},
                    idempotencykey=f"{NLP_POSTPROCESSED}:{audio_id}:corrected:{uuid.uuid4()}",
                ),
            )
        return get_transcript(conn, audio_id)

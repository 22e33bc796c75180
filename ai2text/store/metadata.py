"""Rows of the metadata database that several stages share: recordings and the audit log.

Every function takes a connection and runs inside the caller's transaction, so a stage commits its
rows, its audit entry and its outgoing events together.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb

from ai2text.errors import ConflictError, InputError
from ai2text.store.database import Conn
from ai2text.store.splits import Split

Source = Literal["upload", "hot_folder", "s3_inbox", "synthetic", "import"]
SOURCES: tuple[Source, ...] = ("upload", "hot_folder", "s3_inbox", "synthetic", "import")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class AudioRecord:
    """What we know about a recording when it is ingested."""

    sha256: str
    source: Source
    duration_s: float
    sample_rate: int
    speaker_id: str | None = None
    split: Split | None = None
    original_filename: str | None = None
    snr_db: float | None = None
    device_type: str | None = None
    environment: str | None = None
    blob_key: str | None = None
    reference_text: str | None = None

    def __post_init__(self) -> None:
        if not _SHA256.match(self.sha256):
            raise InputError("sha256 must be 64 lower-case hex digits")
        if self.source not in SOURCES:
            raise InputError(f"source must be one of {', '.join(SOURCES)}, not {self.source!r}")
        if not self.duration_s >= 0:
            raise InputError(
                f"duration must be a non-negative number of seconds: {self.duration_s}"
            )
        if self.sample_rate <= 0:
            raise InputError(f"sample rate must be positive: {self.sample_rate}")
        if self.speaker_id is not None and not 1 <= len(self.speaker_id) <= 200:
            raise InputError("speaker id must be 1 to 200 characters")
        if self.split is not None and self.speaker_id is None:
            raise InputError("a recording without a speaker cannot name a split")


@dataclass(frozen=True)
class StoredAudio:
    audio_id: uuid.UUID
    duplicate: bool
    split: Split | None


def insert_audio(conn: Conn, record: AudioRecord, *, actor: str) -> StoredAudio:
    """Insert a recording once per sha256; a repeat returns the existing id with duplicate=True.

    The database assigns the speaker's split; a record naming a split that contradicts the
    speaker's raises ConflictError and writes nothing.
    """
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO audio (sha256, source, duration_s, sample_rate, speaker_id, split,"
                " original_filename, snr_db, device_type, environment, blob_key, reference_text)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (sha256) DO NOTHING RETURNING id, split",
                (
                    record.sha256,
                    record.source,
                    record.duration_s,
                    record.sample_rate,
                    record.speaker_id,
                    record.split,
                    record.original_filename,
                    record.snr_db,
                    record.device_type,
                    record.environment,
                    record.blob_key,
                    record.reference_text,
                ),
            ).fetchone()
            if row is None:
                existing = conn.execute(
                    "SELECT id, split FROM audio WHERE sha256 = %s", (record.sha256,)
                ).fetchone()
                assert existing is not None  # the conflict above means the row exists
                return StoredAudio(existing[0], True, existing[1])
            record_audit(
                conn,
                actor=actor,
                action="audio.create",
                entity_type="audio",
                entity_id=str(row[0]),
                detail={"source": record.source, "speaker_id": record.speaker_id},
            )
            return StoredAudio(row[0], False, row[1])
    except psycopg.errors.CheckViolation as exc:
        raise ConflictError(str(exc.diag.message_primary or exc)) from exc
    except psycopg.errors.DataError as exc:
        raise InputError(f"invalid recording: {exc.diag.message_primary or exc}") from exc


def speaker_split(conn: Conn, speaker_id: str) -> Split | None:
    """The split a speaker was assigned to, or None when the speaker has no recordings yet."""
    row = conn.execute("SELECT split FROM speakers WHERE speaker_id = %s", (speaker_id,)).fetchone()
    return row[0] if row else None


def record_audit(
    conn: Conn,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit row: who did what to which entity, in the caller's transaction."""
    conn.execute(
        "INSERT INTO audit_log (actor, action, entity_type, entity_id, detail)"
        " VALUES (%s, %s, %s, %s, %s)",
        (actor, action, entity_type, entity_id, Jsonb(detail or {})),
    )

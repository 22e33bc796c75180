"""A recording as a whole: its normalized audio (with byte ranges) and its deletion everywhere.

Deleting a recording removes its audio blob, its transcript JSON, its search vector, its lexical
row and its transcripts (and so every dataset built afterwards), and writes an audit entry. The
work happens under the recording's row lock and the database rows go last, in one transaction:
a crash part-way leaves the row, so the same DELETE, repeated, finishes the job (blob and vector
deletions are idempotent). Datasets already built are content-addressed and left as they were;
the next build no longer selects the recording.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from ai2text.errors import NotFoundError, RangeError
from ai2text.search.index import unindex_recording
from ai2text.store.blobs import BlobStore, transcript_key
from ai2text.store.database import Database
from ai2text.store.metadata import record_audit
from ai2text.store.vectors import VectorStore

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class AudioSlice:
    data: bytes
    start: int
    end: int  # inclusive, as in Content-Range
    size: int
    partial: bool

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a ``Range`` header asks for; None serves the whole body.

    One range only (a multi-range request is answered whole, which RFC 9110 allows)."""
    if header is None or "," in header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        raise RangeError(f"unsupported Range header {header[:80]!r}: use bytes=START-END")
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start = int(first)
        end = min(size - 1, int(last)) if last else size - 1
    if start >= size or end < start:
        raise RangeError(f"range {header.strip()} is outside the {size} bytes of this audio")
    return start, end


def read_audio(
    db: Database, blobs: BlobStore, audio_id: uuid.UUID, range_header: str | None
) -> AudioSlice:
    with db.connection() as conn:
        row = conn.execute("SELECT blob_key FROM audio WHERE id = %s", (audio_id,)).fetchone()
    if row is None or row[0] is None:
        raise NotFoundError(f"no recording {audio_id}")
    data = blobs.get_bytes(str(row[0]))
    wanted = byte_range(range_header, len(data))
    if wanted is None:
        return AudioSlice(data, 0, len(data) - 1, len(data), False)
    start, end = wanted
    return AudioSlice(data[start : end + 1], start, end, len(data), True)


def delete_recording(
    db: Database, blobs: BlobStore, vectors: VectorStore, audio_id: uuid.UUID, *, actor: str
) -> dict[str, object]:
    with db.connection() as conn, conn.transaction():
        row = conn.execute(
            "SELECT blob_key, sha256, original_filename FROM audio WHERE id = %s FOR UPDATE",
            (audio_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no recording {audio_id}")
        blob_key, sha256, filename = row
        unindex_recording(conn, vectors, audio_id)
        removed = [k for k in (blob_key, transcript_key(audio_id)) if k]
        for key in removed:
            blobs.delete(key)
        transcripts = conn.execute(
            "DELETE FROM transcripts WHERE audio_id = %s", (audio_id,)
        ).rowcount
        conn.execute("DELETE FROM audio WHERE id = %s", (audio_id,))
        record_audit(
            conn,
            actor=actor,
            action="recording.delete",
            entity_type="audio",
            entity_id=str(audio_id),
            detail={
                "sha256": sha256,
                "filename": filename,
                "blobs": removed,
                "transcripts": transcripts,
            },
        )
    return {"audio_id": str(audio_id), "deleted": True, "blobs": removed}

"""What the hot folder and the S3 inbox share: which names they take, when an entry is stable
enough to take, the size rules, whose voice an entry is, and what a taken entry became.

A file's speaker is the first folder of its relative name (``inbox/spk-12/clip.wav`` is speaker
``spk-12``); a file directly in the folder has no speaker: it is transcribed and searchable, but
joins no dataset (datasets split by speaker)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ai2text.pipeline.ingest import Ingested

if TYPE_CHECKING:
    from ai2text.bus.bus import EventBus
    from ai2text.config import AudioSettings
    from ai2text.store.blobs import BlobStore
    from ai2text.store.database import Database

PROCESSED, FAILED = "processed", "failed"
DEFAULT_GLOBS = ("*.wav", "*.mp3", "*.m4a", "*.flac", "*.ogg")

Ingest = Callable[[bytes, str], Ingested]  # (bytes, name relative to the folder or prefix)


@dataclass(frozen=True)
class Outcome:
    path: str  # relative to the folder or prefix
    status: str  # "ingested", "duplicate" or "failed"
    audio_id: str | None = None
    reason: str | None = None


def speaker_of(relative: str) -> str | None:
    parts = relative.replace("\\", "/").split("/")
    return parts[0][:200] if len(parts) > 1 and parts[0] else None


def intake_ingest(
    db: Database,
    blobs: BlobStore,
    bus: EventBus,
    audio: AudioSettings,
    source: Literal["hot_folder", "s3_inbox"],
) -> Ingest:
    """The one ingestion path (as ``POST /v1/ingest``) for a poller's entries, with the speaker
    from the entry's first folder."""
    from ai2text.pipeline.ingest import ingest_audio

    def ingest(data: bytes, name: str) -> Ingested:
        return ingest_audio(db, blobs, bus, data, audio=audio, source=source,
                            actor=f"system:{source}", filename=name,
                            speaker_id=speaker_of(name))  # fmt: skip

    return ingest


def matches(name: str, globs: Iterable[str]) -> bool:
    """A visible name matching one of the patterns, case aside."""
    return not name.startswith(".") and any(fnmatch.fnmatch(name.lower(), g) for g in globs)


def size_refusal(what: str, size: int, max_bytes: int) -> str | None:
    if size == 0:
        return f"the {what} is empty"
    if size > max_bytes:
        return f"the {what} has {size} bytes, over the {max_bytes}-byte limit"
    return None


@dataclass
class Stability:
    """An entry is stable once its signature (size and mtime, size and ETag) has not changed for
    ``stable_s``: a copy or an upload in progress is left alone."""

    stable_s: float
    _seen: dict[str, tuple[Hashable, float]] = field(default_factory=dict)

    def ready(self, key: str, signature: Hashable, now: float) -> bool:
        seen = self._seen.get(key)
        if seen is None or seen[0] != signature:
            self._seen[key] = (signature, now)
            return False
        return now - seen[1] >= self.stable_s

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)

    def keep_only(self, present: set[str]) -> None:
        """Drop what has disappeared since the last pass."""
        self._seen = {k: v for k, v in self._seen.items() if k in present}

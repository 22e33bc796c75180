"""What the hot folder and the S3 inbox share: which names they take, when an entry is stable
enough to take, the size rules, whose voice an entry is, and what a taken entry became.

A file's speaker is the first folder of its relative name (``inbox/spk-12/clip.wav`` is speaker
``spk-12``); a file directly in the folder has no speaker: it is transcribed and searchable, but
joins no dataset (datasets split by speaker)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from ai2text.pipeline.ingest import Ingested

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

"""The hot folder: audio dropped into a folder (recursively) is ingested, then moved aside.

A file is taken only once its size and modification time have not changed for ``stable_s``
(a copy in progress is left alone). Symbolic links, and anything whose real path leaves the
folder, are refused; so are files over the audio size limit, without reading them. A taken file
moves to ``processed/`` (keeping its relative path) after its recording committed, or to
``failed/`` with a ``.reason`` file beside it saying why. A crash between the commit and the move
is harmless: the next pass ingests the same bytes again, which is a duplicate by SHA-256, and
moves the file then.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ai2text.errors import Ai2TextError, InputError, is_client_error
from ai2text.pipeline.ingest import Ingested

PROCESSED, FAILED = "processed", "failed"
DEFAULT_GLOBS = ("*.wav", "*.mp3", "*.m4a", "*.flac", "*.ogg")

Ingest = Callable[[bytes, str], Ingested]  # (file bytes, name relative to the folder)


@dataclass(frozen=True)
class Outcome:
    path: str  # relative to the folder
    status: str  # "ingested", "duplicate" or "failed"
    audio_id: str | None = None
    reason: str | None = None


@dataclass
class HotFolder:
    root: Path
    ingest: Ingest
    globs: tuple[str, ...] = DEFAULT_GLOBS
    stable_s: float = 2.0
    max_bytes: int = 200 * 1024 * 1024
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)  # size, mtime, since

    def __post_init__(self) -> None:
        if not self.root.is_dir():
            raise InputError(f"the hot folder {self.root} is not a directory")
        self.root = self.root.resolve()

    def candidates(self) -> Iterator[Path]:
        """Files matching the globs, below the folder, outside processed/ and failed/."""
        for folder, dirs, files in os.walk(self.root, followlinks=False):
            here = Path(folder)
            if here == self.root:
                dirs[:] = [d for d in dirs if d not in (PROCESSED, FAILED)]
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in sorted(files):
                if not name.startswith(".") and any(
                    fnmatch.fnmatch(name.lower(), g) for g in self.globs
                ):
                    yield here / name

    def poll(self) -> list[Outcome]:
        """One pass: take every stable file; returns what happened to each taken one."""
        outcomes = []
        now = self.clock()
        present = set()
        for path in self.candidates():
            relative = path.relative_to(self.root).as_posix()
            present.add(relative)
            refusal = self._refusal(path)
            if refusal is not None:
                outcomes.append(self._fail(path, relative, refusal))
                continue
            stat = path.stat()
            signature = (stat.st_size, stat.st_mtime_ns)
            seen = self._seen.get(relative)
            if seen is None or seen[:2] != signature:
                self._seen[relative] = (*signature, now)
                continue
            if now - seen[2] < self.stable_s:
                continue
            outcomes.append(self._take(path, relative))
        self._seen = {k: v for k, v in self._seen.items() if k in present}
        return outcomes

    def _refusal(self, path: Path) -> str | None:
        if path.is_symlink():
            return "symbolic links are refused"
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(self.root):
            return "the file's real path is outside the hot folder"
        size = path.lstat().st_size
        if size > self.max_bytes:
            return f"the file has {size} bytes, over the {self.max_bytes}-byte limit"
        if size == 0:
            return "the file is empty"
        return None

    def _take(self, path: Path, relative: str) -> Outcome:
        try:
            result = self.ingest(path.read_bytes(), relative)
        except Ai2TextError as exc:
            if not is_client_error(exc):
                raise  # the platform's fault (database down...): leave the file for a retry
            return self._fail(path, relative, exc.message)
        self._move(path, relative, PROCESSED)
        status = "duplicate" if result.duplicate else "ingested"
        return Outcome(relative, status, audio_id=str(result.audio_id))

    def _fail(self, path: Path, relative: str, reason: str) -> Outcome:
        target = self._move(path, relative, FAILED)
        target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
        return Outcome(relative, "failed", reason=reason)

    def _move(self, path: Path, relative: str, folder: str) -> Path:
        """Rename into ``folder`` keeping the relative path; a taken name gets a number."""
        target = self.root / folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        number = 1
        while target.exists() or target.is_symlink():
            target = target.with_name(f"{Path(relative).stem}.{number}{Path(relative).suffix}")
            number += 1
        os.replace(path, target)  # moves a symbolic link itself, never its target
        self._seen.pop(relative, None)
        return target

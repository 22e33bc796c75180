"""The hot folder: audio dropped into a folder (recursively) is ingested, then moved aside.

A file is taken only once its size and modification time have not changed for ``stable_s``
(a copy in progress is left alone, even while it is still empty). Symbolic links, and anything
whose real path leaves the folder, are refused; so are empty files and files over the audio size
limit, without reading them. A taken file
moves to ``processed/`` (keeping its relative path) after its recording committed, or to
``failed/`` with a ``.reason`` file beside it saying why. A crash between the commit and the move
is harmless: the next pass ingests the same bytes again, which is a duplicate by SHA-256, and
moves the file then.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ai2text.errors import Ai2TextError, InputError, is_client_error
from ai2text.pipeline.intake import (
    DEFAULT_GLOBS,
    FAILED,
    PROCESSED,
    Ingest,
    Outcome,
    Stability,
    matches,
    size_refusal,
)


@dataclass
class HotFolder:
    root: Path
    ingest: Ingest
    globs: tuple[str, ...] = DEFAULT_GLOBS
    stable_s: float = 2.0
    max_bytes: int = 200 * 1024 * 1024
    clock: Callable[[], float] = time.monotonic
    _stability: Stability = field(init=False)

    def __post_init__(self) -> None:
        if not self.root.is_dir():
            raise InputError(f"the hot folder {self.root} is not a directory")
        self.root = self.root.resolve()
        self._stability = Stability(self.stable_s)

    def candidates(self) -> Iterator[Path]:
        """Files matching the globs, below the folder, outside processed/ and failed/."""
        for folder, dirs, files in os.walk(self.root, followlinks=False):
            here = Path(folder)
            if here == self.root:
                dirs[:] = [d for d in dirs if d not in (PROCESSED, FAILED)]
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in sorted(files):
                if matches(name, self.globs):
                    yield here / name

    def poll(self) -> list[Outcome]:
        """One pass: take every stable file; returns what happened to each taken one."""
        outcomes = []
        now = self.clock()
        present = set()
        for path in self.candidates():
            relative = path.relative_to(self.root).as_posix()
            present.add(relative)
            stat = path.lstat()  # a link's own size and time: its target is never looked at
            if self._stability.ready(relative, (stat.st_size, stat.st_mtime_ns), now):
                outcomes.append(self._take(path, relative))
        self._stability.keep_only(present)
        return outcomes

    def _refusal(self, path: Path) -> str | None:
        if path.is_symlink():
            return "symbolic links are refused"
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(self.root):
            return "the file's real path is outside the hot folder"
        return size_refusal("file", path.lstat().st_size, self.max_bytes)

    def _take(self, path: Path, relative: str) -> Outcome:
        refusal = self._refusal(path)
        if refusal is not None:
            return self._fail(path, relative, refusal)
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
        self._stability.forget(relative)
        return target

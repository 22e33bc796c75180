"""The hot folder over the real ingestion path (ffmpeg, PostgreSQL, blobs, the bus), with a
clock the test moves instead of sleeping."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ai2text.audio.transcoder import SAMPLE_RATE
from ai2text.audio.wav import write_wav
from ai2text.bus.bus import open_bus
from ai2text.config import Settings
from ai2text.errors import InputError
from ai2text.pipeline.hot_folder import HotFolder
from ai2text.pipeline.ingest import Ingested, ingest_audio
from ai2text.store.blobs import open_blob_store
from ai2text.store.database import Database

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tone(path: Path, frequency: float, seconds: float = 1.0) -> Path:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    write_wav(path, 0.3 * np.sin(2 * np.pi * frequency * t), SAMPLE_RATE)
    return path


@pytest.fixture
def folder(tmp_path: Path, settings: Settings, db: Database) -> Iterator[tuple[HotFolder, Clock]]:
    root = tmp_path / "inbox"
    root.mkdir()
    blobs = open_blob_store(settings)
    bus = open_bus(settings, db)

    def ingest(data: bytes, name: str) -> Ingested:
        return ingest_audio(db, blobs, bus, data, audio=settings.audio, source="hot_folder",
                            actor="system:hot-folder", filename=name)  # fmt: skip

    clock = Clock()
    yield HotFolder(root, ingest, stable_s=2.0, max_bytes=1 << 20, clock=clock), clock
    bus.close()


def settle(hot: HotFolder, clock: Clock) -> list:  # type: ignore[type-arg]
    """Two passes stable_s apart: the first sees the files, the second takes them."""
    first = hot.poll()
    clock.now += hot.stable_s
    return first + hot.poll()


def test_good_files_are_ingested_once_and_moved(
    folder: tuple[HotFolder, Clock], db: Database
) -> None:
    hot, clock = folder
    tone(hot.root / "a.wav", 440)
    tone(hot.root / "sub" / "deep" / "b.WAV", 550)
    shutil.copy(hot.root / "a.wav", hot.root / "sub" / "a-again.wav")
    (hot.root / "notes.txt").write_text("not matched by the globs")
    outcomes = {o.path: o for o in settle(hot, clock)}
    assert {p: o.status for p, o in outcomes.items()} == {
        "a.wav": "ingested", "sub/deep/b.WAV": "ingested", "sub/a-again.wav": "duplicate",
    }  # fmt: skip
    assert outcomes["a.wav"].audio_id == outcomes["sub/a-again.wav"].audio_id
    assert (hot.root / "processed" / "sub" / "deep" / "b.WAV").is_file()
    assert not (hot.root / "a.wav").exists() and (hot.root / "notes.txt").exists()
    with db.connection() as conn:
        rows = conn.execute("SELECT count(*) FROM audio WHERE source = 'hot_folder'").fetchone()
        events = conn.execute(
            "SELECT count(*) FROM bus_events WHERE type = 'recording.ingested'"
        ).fetchone()
    assert rows == (2,) and events == (2,)
    assert hot.poll() == []  # nothing left, and processed/ is never rescanned


def test_a_file_still_growing_waits(folder: tuple[HotFolder, Clock]) -> None:
    hot, clock = folder
    growing = hot.root / "long.wav"
    tone(growing, 300, seconds=0.5)
    assert hot.poll() == []
    clock.now += hot.stable_s
    tone(growing, 300, seconds=1.5)  # rewritten: size and mtime changed
    assert hot.poll() == []
    clock.now += hot.stable_s / 2
    assert hot.poll() == []
    clock.now += hot.stable_s / 2
    assert [o.status for o in hot.poll()] == ["ingested"]


def test_a_copy_that_starts_empty_is_not_failed(folder: tuple[HotFolder, Clock]) -> None:
    """Regression: a copy creates its file empty first; only a stable empty file is refused."""
    hot, clock = folder
    arriving = hot.root / "arriving.wav"
    arriving.write_bytes(b"")
    assert hot.poll() == []
    tone(arriving, 350)
    clock.now += hot.stable_s
    assert hot.poll() == []  # changed since the last pass: wait again
    clock.now += hot.stable_s
    assert [o.status for o in hot.poll()] == ["ingested"]


def test_bad_files_fail_with_a_reason_and_never_stop_the_flow(
    folder: tuple[HotFolder, Clock], tmp_path: Path
) -> None:
    hot, clock = folder
    tone(hot.root / "good.wav", 660)
    (hot.root / "empty.wav").write_bytes(b"")
    (hot.root / "text.wav").write_text("this is not audio at all")
    whole = tone(tmp_path / "whole.wav", 700).read_bytes()
    (hot.root / "truncated.mp3").write_bytes(whole[: len(whole) // 3][:200])
    (hot.root / "huge.wav").write_bytes(b"\0" * ((1 << 20) + 1))
    outside = tone(tmp_path / "outside.wav", 800)
    os.symlink(outside, hot.root / "escape.wav")
    outcomes = {o.path: o for o in settle(hot, clock)}
    assert outcomes.pop("good.wav").status == "ingested"
    assert {p: o.status for p, o in outcomes.items()} == dict.fromkeys(
        ["empty.wav", "text.wav", "truncated.mp3", "huge.wav", "escape.wav"], "failed"
    )
    for name, why in [("empty.wav", "empty"), ("huge.wav", "limit"), ("escape.wav", "symbolic"),
                      ("text.wav", "not audio"), ("truncated.mp3", "truncated")]:  # fmt: skip
        reason = (hot.root / "failed" / f"{name}.reason").read_text()
        assert why in reason and reason.strip(), (name, reason)
    assert (hot.root / "failed" / "escape.wav").is_symlink() and outside.is_file()


def test_a_crash_between_commit_and_move_is_harmless(folder: tuple[HotFolder, Clock]) -> None:
    hot, clock = folder
    path = tone(hot.root / "c.wav", 900)
    first = hot.ingest(path.read_bytes(), "c.wav")  # committed, then the process died
    outcomes = settle(hot, clock)
    assert [(o.status, o.audio_id) for o in outcomes] == [("duplicate", str(first.audio_id))]
    assert (hot.root / "processed" / "c.wav").is_file()


def test_names_already_taken_get_a_number_and_a_missing_folder_is_refused(
    folder: tuple[HotFolder, Clock], tmp_path: Path
) -> None:
    hot, clock = folder
    tone(hot.root / "d.wav", 1000)
    settle(hot, clock)
    tone(hot.root / "d.wav", 1100)
    settle(hot, clock)
    assert sorted(p.name for p in (hot.root / "processed").iterdir()) == ["d.1.wav", "d.wav"]
    with pytest.raises(InputError, match="not a directory"):
        HotFolder(tmp_path / "missing", hot.ingest)


def test_cli_watch_once_takes_what_is_there(tmp_path: Path, db_url: str) -> None:
    inbox = tmp_path / "inbox"
    tone(inbox / "x.wav", 1200)
    (inbox / "bad.wav").write_text("not audio")
    result = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "pipeline", "watch", str(inbox), "--once",
         "--stable-s", "0.2"],
        env={**os.environ, "AI2TEXT_HOME": str(tmp_path / "home"), "AI2TEXT_DATABASE_URL": db_url},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = sorted((json.loads(line) for line in result.stdout.splitlines()),
                   key=lambda o: o["path"])  # fmt: skip
    assert [(o["path"], o["status"]) for o in lines] == [
        ("bad.wav", "failed"),
        ("x.wav", "ingested"),
    ]
    assert (inbox / "processed" / "x.wav").is_file() and (inbox / "failed" / "bad.wav").is_file()

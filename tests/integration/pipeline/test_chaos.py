"""Chaos: ``ai2text pipeline run`` (hot folder and every stage in one process) is SIGKILLed again
and again while 200 files and five bad ones flow through the hot folder. Afterwards every good
file has exactly one recording, one transcript, one lexical row and one vector, nothing is left
in flight or dead, and each bad file is in ``failed/`` with its reason."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest

from ai2text.audio.transcoder import SAMPLE_RATE
from ai2text.audio.wav import read_wav, write_wav
from ai2text.store.database import Database
from tests.integration.pipeline.flow import synthesize_files

pytestmark = pytest.mark.integration
GOOD = 200
SENTENCES = [
    "xin chào các bạn", "hôm nay trời đẹp quá", "tôi thích đọc sách", "mẹ nấu cơm ngon",
    "thành phố có nhiều cây xanh", "chúng tôi đi học", "anh ấy làm việc ở hà nội",
    "cô giáo dạy toán", "bạn có khỏe không", "trời sắp mưa rồi",
]  # fmt: skip
MAX_BYTES = 1 << 20


def _good_files(tmp_path: Path) -> list[tuple[str, np.ndarray]]:
    """200 distinct clips: each sentence with 20 different lengths of trailing silence."""
    clips = [read_wav(p)[0] for p in synthesize_files(SENTENCES, tmp_path / "speech", seed=31)]
    return [
        (f"spk-{i % 7}/clip-{i:03d}.wav", np.concatenate([clip, np.zeros(80 * (i + 1))]))
        for i, clip in enumerate(clip for clip in clips for _ in range(GOOD // len(clips)))
    ]


def _bad_files(inbox: Path, outside: Path) -> dict[str, str]:
    """Name -> a word of the reason each must fail with."""
    (inbox / "bad").mkdir(parents=True)
    (inbox / "bad" / "empty.wav").write_bytes(b"")
    (inbox / "bad" / "truncated.wav").write_bytes(b"RIFF\x24\x08\x00\x00WAVEfmt ")
    (inbox / "bad" / "not-audio.mp3").write_text("this is a shopping list, not audio\n" * 20)
    (inbox / "bad" / "huge.wav").write_bytes(os.urandom(MAX_BYTES + 1))
    outside.write_bytes(b"secret")
    (inbox / "bad" / "escape.wav").symlink_to(outside)
    return {
        "bad/empty.wav": "empty",
        "bad/truncated.wav": "",
        "bad/not-audio.mp3": "",
        "bad/huge.wav": "limit",
        "bad/escape.wav": "symbolic link",
    }


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ai2text.cli.main", "pipeline", "run", "--no-training"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM audio), (SELECT count(*) FROM transcripts),"
            " (SELECT count(*) FROM search_documents),"
            " (SELECT count(*) FROM bus_deliveries WHERE state <> 'dead'),"
            " (SELECT count(*) FROM bus_deliveries WHERE state = 'dead')"
        ).fetchone()
    assert row is not None
    return dict(zip(("audio", "transcripts", "indexed", "in_flight", "dead"), row, strict=True))


def test_killed_workers_lose_and_repeat_nothing(tmp_path: Path, db_url: str, db: Database) -> None:
    """``db`` migrates the database before the first process starts."""
    inbox, log = tmp_path / "inbox", tmp_path / "pipeline.log"
    env = {
        **os.environ,
        "AI2TEXT_HOME": str(tmp_path / "home"),
        "AI2TEXT_DATABASE_URL": db_url,
        "AI2TEXT_PIPELINE__HOT_FOLDER": str(inbox),
        "AI2TEXT_PIPELINE__HOT_FOLDER_STABLE_S": "0.3",
        "AI2TEXT_PIPELINE__HOT_FOLDER_POLL_S": "0.2",
        "AI2TEXT_AUDIO__MAX_INPUT_BYTES": str(MAX_BYTES),
        "AI2TEXT_BUS__LEASE_SECONDS": "3",
    }
    inbox.mkdir()
    good = _good_files(tmp_path)
    bad = _bad_files(inbox, tmp_path / "outside-secret.wav")
    rng = random.Random(7)
    mid_flow = 0  # kills that found work unfinished
    for start in range(0, GOOD, 40):  # files keep arriving while the process is killed
        for name, samples in good[start : start + 40]:
            (inbox / name).parent.mkdir(parents=True, exist_ok=True)
            write_wav(inbox / name, samples, SAMPLE_RATE)
        process = _start(env, log)
        target = start + rng.randint(1, 35)  # kill once this batch is partly ingested
        deadline = time.monotonic() + 120
        while _counts(db_url)["audio"] < target and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait()
        at_kill = _counts(db_url)
        mid_flow += at_kill["in_flight"] > 0 or at_kill["indexed"] < start + 40
    process = _start(env, log)
    deadline = time.monotonic() + 400
    try:
        while True:
            counts = _counts(db_url)
            if counts["indexed"] == GOOD and counts["in_flight"] == 0:
                break
            assert process.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, (counts, log.read_text()[-4000:])
            time.sleep(1.0)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert mid_flow >= 3, "the kills did not interrupt the flow"
    assert counts == {"audio": GOOD, "transcripts": GOOD, "indexed": GOOD, "in_flight": 0,
                      "dead": 0}  # fmt: skip
    with psycopg.connect(db_url) as conn:
        per_audio = conn.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM transcripts GROUP BY audio_id) t"
        ).fetchone()
        vectors = conn.execute("SELECT count(*) FROM vectors_transcripts").fetchone()
        speakers = conn.execute("SELECT count(DISTINCT speaker_id) FROM audio").fetchone()
    assert per_audio == (1,) and vectors == (GOOD,) and speakers == (7,)
    processed = sorted(p for p in (inbox / "processed").rglob("*.wav"))
    assert len(processed) == GOOD
    left = [p for p in inbox.rglob("*") if (p.is_file() or p.is_symlink())
            and p.relative_to(inbox).parts[0] not in ("processed", "failed")]  # fmt: skip
    assert left == []
    for name, word in bad.items():
        failed = inbox / "failed" / name
        assert failed.exists() or failed.is_symlink(), name
        reason = (inbox / "failed" / f"{name}.reason").read_text()
        assert word in reason.lower(), (name, reason)
    assert (tmp_path / "outside-secret.wav").read_bytes() == b"secret"

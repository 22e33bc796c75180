from __future__ import annotations

import hashlib
import threading

import psycopg
import pytest

from ai2text.config import Settings, SplitPolicy
from ai2text.errors import ConfigError, ConflictError
from ai2text.store.database import Database, open_database
from ai2text.store.metadata import AudioRecord, insert_audio, speaker_split
from ai2text.store.splits import speaker_bucket, split_for


def record(tag: str, speaker: str | None, split: str | None = None) -> AudioRecord:
    return AudioRecord(
        sha256=hashlib.sha256(tag.encode()).hexdigest(),
        source="upload",
        duration_s=1.5,
        sample_rate=16000,
        speaker_id=speaker,
        split=split,  # type: ignore[arg-type]
    )


def test_sql_and_python_buckets_agree(db: Database) -> None:
    speakers = [f"spk-{i}" for i in range(300)] + ["người nói 1", "VIVOS_F01"]
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT s, ai2text_speaker_bucket(s), ai2text_split_for(s) FROM unnest(%s::text[]) s",
            (speakers,),
        ).fetchall()
    policy = SplitPolicy()
    assert [(r[1], r[2]) for r in rows] == [
        (speaker_bucket(s), split_for(s, policy)) for s in speakers
    ]


def test_split_is_assigned_from_the_hash_once(db: Database) -> None:
    with db.connection() as conn:
        first = insert_audio(conn, record("a", "spk-7"), actor="test")
        second = insert_audio(conn, record("b", "spk-7"), actor="test")
        assert first.split == second.split == split_for("spk-7", SplitPolicy())
        assert speaker_split(conn, "spk-7") == first.split
        audits = conn.execute(
            "SELECT actor, action, entity_id FROM audit_log WHERE entity_type = 'audio' ORDER BY id"
        ).fetchall()
    assert audits == [
        ("test", "audio.create", str(first.audio_id)),
        ("test", "audio.create", str(second.audio_id)),
    ]


def test_a_speaker_in_a_second_split_is_refused(db: Database) -> None:
    with db.connection() as conn:
        stored = insert_audio(conn, record("a", "spk-x"), actor="test")
        other = next(s for s in ("train", "val", "test") if s != stored.split)
        with pytest.raises(ConflictError, match="already has recordings"):
            insert_audio(conn, record("b", "spk-x", other), actor="test")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE audio SET split = %s WHERE id = %s", (other, stored.audio_id))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE speakers SET split = %s WHERE speaker_id = 'spk-x'", (other,))
        assert conn.execute("SELECT count(*) FROM audio").fetchone() == (1,)


def _insert_racing(
    url: str, speaker: str, split: str, barrier: threading.Barrier, outcomes: dict[str, str]
) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        barrier.wait()
        try:
            insert_audio(conn, record(f"{speaker}-{split}", speaker, split), actor="race")
            outcomes[split] = "ok"
        except ConflictError:
            outcomes[split] = "refused"


def test_concurrent_first_recordings_in_two_splits_admit_one(db: Database) -> None:
    for round_no in range(10):
        speaker = f"race-{round_no}"
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}
        threads = [
            threading.Thread(target=_insert_racing, args=(db.url, speaker, s, barrier, outcomes))
            for s in ("train", "test")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes.values()) == ["ok", "refused"]
        with db.connection() as conn:
            splits = conn.execute(
                "SELECT DISTINCT split FROM audio WHERE speaker_id = %s", (speaker,)
            ).fetchall()
        assert len(splits) == 1


def test_duplicate_audio_returns_the_existing_id(db: Database) -> None:
    with db.connection() as conn:
        first = insert_audio(conn, record("same", None), actor="test")
        again = insert_audio(conn, record("same", None), actor="test")
    assert (again.audio_id, again.duplicate, first.duplicate) == (first.audio_id, True, False)


def test_changed_split_ratios_are_refused(settings: Settings, db: Database) -> None:
    changed = settings.model_copy(update={"splits": SplitPolicy(train_percent=80, val_percent=10)})
    with pytest.raises(ConfigError, match="fixed once speakers are assigned"):
        open_database(changed)

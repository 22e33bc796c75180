"""The dataset builder on a real database: selection, speaker-disjoint splits, manifests, shards."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from ai2text.audio.wav import write_wav
from ai2text.config import SplitPolicy
from ai2text.data.builder import SelectionPolicy, Utterance, _check_disjoint, build, select, stats
from ai2text.errors import ConflictError
from ai2text.store.blobs import LocalBlobStore, audio_raw_key
from ai2text.store.database import Database
from ai2text.store.metadata import AudioRecord, insert_audio
from ai2text.store.splits import split_for


def speakers_per_split(count: int) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    i = 0
    while any(len(v) < count for v in found.values()):
        name = f"speaker-{i}"
        split = split_for(name, SplitPolicy())
        if len(found[split]) < count:
            found[split].append(name)
        i += 1
    return found


@pytest.fixture
def populated(db: Database, tmp_path: Path) -> tuple[Database, LocalBlobStore, dict[str, str]]:
    blobs = LocalBlobStore(tmp_path / "blobs")
    expected: dict[str, str] = {}  # audio id -> what the builder should do with it
    n = 0
    with db.connection() as conn:
        for split, names in speakers_per_split(2).items():
            for speaker in names:
                for kind in ("verified", "pseudo-high", "pseudo-low", "failed", "both"):
                    n += 1
                    samples = (0.1 * np.sin(np.arange(8000) * (n + 1) / 50)).astype(np.float32)
                    path = tmp_path / f"{n}.wav"
                    write_wav(path, samples, 16000)
                    data = path.read_bytes()
                    stored = insert_audio(
                        conn,
                        AudioRecord(
                            sha256=hashlib.sha256(data).hexdigest(), source="upload",
                            duration_s=0.5, sample_rate=16000, speaker_id=speaker,
                        ),
                        actor="test",
                    )  # fmt: skip
                    assert stored.split == split
                    key = audio_raw_key(stored.audio_id)
                    blobs.put_bytes(key, data)
                    conn.execute(
                        "UPDATE audio SET blob_key = %s WHERE id = %s", (key, stored.audio_id)
                    )
                    rows = {
                        "verified": [("human", "done", "câu đã sửa", None, True)],
                        "pseudo-high": [("m1", "done", "câu máy nghe", 0.95, False)],
                        "pseudo-low": [("m1", "done", "câu không chắc", 0.5, False)],
                        "failed": [("m1", "failed", "", None, False)],
                        "both": [
                            ("m1", "done", "bản máy", 0.99, False),
                            ("human", "done", "bản người", None, True),
                        ],
                    }[kind]
                    for version, status, text, confidence, verified in rows:
                        conn.execute(
                            "INSERT INTO transcripts (audio_id, model_version, status, text,"
                            " confidence, verified) VALUES (%s, %s, %s, %s, %s, %s)",
                            (stored.audio_id, version, status, text, confidence, verified),
                        )
                    expected[str(stored.audio_id)] = kind
    return db, blobs, expected


def test_selection_prefers_verified_and_thresholds_pseudo(populated) -> None:  # type: ignore[no-untyped-def]
    db, _, expected = populated
    chosen = {u.audio_id: u for u in select(db, SelectionPolicy(min_confidence=0.9))}
    assert {expected[a] for a in chosen} == {"verified", "pseudo-high", "both"}
    for audio_id, utterance in chosen.items():
        kind = expected[audio_id]
        assert utterance.label == ("pseudo" if kind == "pseudo-high" else "verified")
        if kind == "both":
            assert utterance.text == "bản người"
    verified_only = select(db, SelectionPolicy(include_pseudo=False))
    assert {expected[u.audio_id] for u in verified_only} == {"verified", "both"}
    counts = stats(list(chosen.values()))
    assert {s: (c.utterances, c.speakers, c.pseudo) for s, c in counts.items()} == {
        "train": (6, 2, 2), "val": (6, 2, 2), "test": (6, 2, 2),
    }  # fmt: skip


def test_build_writes_disjoint_manifests_and_shards_once(populated) -> None:  # type: ignore[no-untyped-def]
    db, blobs, _ = populated
    report = build(db, blobs, SelectionPolicy(shard_size=4))
    assert report.written
    speakers: dict[str, set[str]] = {}
    for split, key in report.manifests.items():
        rows = [json.loads(line) for line in blobs.get_bytes(key).decode().splitlines()]
        assert len(rows) == 6
        assert all(r["audio_filepath"].startswith("audio/raw/") for r in rows)
        speakers[split] = {r["speaker"] for r in rows}
        assert len(report.shards[split]) == 2  # 6 utterances, 4 a shard
        with tarfile.open(fileobj=io.BytesIO(blobs.get_bytes(report.shards[split][0]))) as shard:
            names = shard.getnames()
        assert len(names) == 8 and {n.rsplit(".", 1)[1] for n in names} == {"wav", "json"}
    assert not (speakers["train"] & speakers["val"] or speakers["train"] & speakers["test"])
    assert not speakers["val"] & speakers["test"]
    again = build(db, blobs, SelectionPolicy(shard_size=4))
    assert again.dataset_hash == report.dataset_hash and not again.written
    other = build(db, blobs, SelectionPolicy(shard_size=4, include_pseudo=False))
    assert other.dataset_hash != report.dataset_hash


def test_a_speaker_in_two_splits_stops_the_build() -> None:
    def utterance(split: str) -> Utterance:
        return Utterance("a", "0" * 64, "spk", split, 1.0, "k", "t", "verified", None, "v")

    with pytest.raises(ConflictError, match="spk"):
        _check_disjoint([utterance("train"), utterance("test")])


def test_a_built_split_reads_back_as_local_rows(populated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ai2text.data.builder import local_rows
    from ai2text.errors import NotFoundError

    db, blobs, _ = populated
    report = build(db, blobs, SelectionPolicy())
    rows = local_rows(blobs, report.dataset_hash, "train", tmp_path / "cache")
    assert len(rows) == 6
    assert all(Path(r.audio_filepath).is_file() and r.speaker for r in rows)
    with pytest.raises(NotFoundError, match="no complete dataset"):
        local_rows(blobs, "0123456789abcdef", "train", tmp_path / "cache")

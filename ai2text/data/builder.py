"""Datasets from what the platform collected, split by speaker as the database assigned them.

Selection: per recording with a known speaker, its verified (human) transcript first; otherwise,
when allowed, its most confident ASR transcript at or above ``min_confidence``, marked
``pseudo``. Splits are never reassigned here: each row keeps its speaker's split from the
database, and a speaker found in two splits stops the build. Output, under a content hash of what
was selected (so the same selection is the same dataset, written once):

    datasets/{hash}/{split}/manifest.jsonl        NeMo manifest (audio as blob keys)
    datasets/{hash}/{split}/shard-000000.tar      WebDataset shards: {key}.wav + {key}.json
    datasets/{hash}/stats.json                    hours, utterances, speakers per split
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ai2text.data.manifest import ManifestRow
from ai2text.errors import ConflictError, InputError, NotFoundError
from ai2text.store.blobs import BlobStore, dataset_key
from ai2text.store.database import Conn, Database
from ai2text.store.splits import SPLITS

# which (recording, transcript) pairs a dataset may use; the pipeline's hour count uses it too
SELECTABLE = """
a.split IS NOT NULL AND a.blob_key IS NOT NULL
  AND coalesce(t.text_clean, t.text) <> ''
  AND (t.verified OR (%(pseudo)s AND t.status = 'done' AND t.confidence >= %(min_confidence)s))
"""

_SELECT = f"""
SELECT DISTINCT ON (a.id)
       a.id, a.sha256, a.speaker_id, a.split, a.duration_s, a.blob_key,
       coalesce(t.text_clean, t.text) AS text, t.verified, t.confidence, t.model_version
FROM audio a
JOIN transcripts t ON t.audio_id = a.id
WHERE {SELECTABLE}
ORDER BY a.id, t.verified DESC, t.confidence DESC NULLS LAST, t.updated_at DESC
"""


@dataclass(frozen=True)
class SelectionPolicy:
    min_confidence: float = 0.9
    include_pseudo: bool = True
    shard_size: int = 500

    def params(self) -> dict[str, object]:
        """The parameters of :data:`SELECTABLE`."""
        return {"pseudo": self.include_pseudo, "min_confidence": self.min_confidence}

    def __post_init__(self) -> None:
        if not 0 <= self.min_confidence <= 1:
            raise InputError("min_confidence must be between 0 and 1")
        if self.shard_size < 1:
            raise InputError("shard_size must be positive")


@dataclass(frozen=True)
class Utterance:
    audio_id: str
    sha256: str
    speaker: str
    split: str
    duration: float
    blob_key: str
    text: str
    label: str  # "verified" or "pseudo"
    confidence: float | None
    model_version: str


@dataclass(frozen=True)
class SplitStats:
    utterances: int
    hours: float
    speakers: int
    verified: int
    pseudo: int


@dataclass(frozen=True)
class DatasetReport:
    dataset_hash: str
    splits: dict[str, SplitStats]
    manifests: dict[str, str]
    shards: dict[str, list[str]]
    written: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset_hash": self.dataset_hash,
            "splits": {k: asdict(v) for k, v in self.splits.items()},
            "manifests": self.manifests,
            "shards": self.shards,
            "written": self.written,
        }


_HOURS = f"""
SELECT a.split, sum(a.duration_s) / 3600.0
FROM audio a
WHERE EXISTS (SELECT 1 FROM transcripts t WHERE t.audio_id = a.id AND {SELECTABLE})
GROUP BY a.split
"""


def selectable_hours(conn: Conn, policy: SelectionPolicy) -> dict[str, float]:
    """Hours of audio a build with ``policy`` would select now, per split that has any."""
    rows = conn.execute(_HOURS, policy.params()).fetchall()
    return {str(r[0]): round(float(r[1]), 6) for r in rows}


def select(db: Database, policy: SelectionPolicy) -> list[Utterance]:
    with db.connection() as conn:
        rows = conn.execute(_SELECT, policy.params()).fetchall()
    return [
        Utterance(
            audio_id=str(r[0]),
            sha256=r[1],
            speaker=r[2],
            split=r[3],
            duration=float(r[4]),
            blob_key=r[5],
            text=r[6],
            label="verified" if r[7] else "pseudo",
            confidence=None if r[8] is None else float(r[8]),
            model_version=r[9],
        )
        for r in rows
    ]


def stats(utterances: Sequence[Utterance]) -> dict[str, SplitStats]:
    by_split: dict[str, list[Utterance]] = defaultdict(list)
    for utterance in utterances:
        by_split[utterance.split].append(utterance)
    return {
        split: SplitStats(
            utterances=len(items := by_split.get(split, [])),
            hours=round(sum(u.duration for u in items) / 3600, 4),
            speakers=len({u.speaker for u in items}),
            verified=sum(u.label == "verified" for u in items),
            pseudo=sum(u.label == "pseudo" for u in items),
        )
        for split in SPLITS
    }


def _check_disjoint(utterances: Sequence[Utterance]) -> None:
    seen: dict[str, str] = {}
    for utterance in utterances:
        previous = seen.setdefault(utterance.speaker, utterance.split)
        if previous != utterance.split:
            raise ConflictError(
                f"speaker {utterance.speaker} is in splits {previous} and {utterance.split}"
            )


def content_hash(utterances: Sequence[Utterance], policy: SelectionPolicy) -> str:
    digest = hashlib.sha256(json.dumps(asdict(policy), sort_keys=True).encode())
    for u in sorted(utterances, key=lambda u: u.audio_id):
        digest.update(f"{u.audio_id}\t{u.sha256}\t{u.split}\t{u.label}\t{u.text}\n".encode())
    return digest.hexdigest()[:16]


def build(db: Database, blobs: BlobStore, policy: SelectionPolicy) -> DatasetReport:
    """Select, check speaker-disjointness, and write manifests and shards once per content hash."""
    utterances = select(db, policy)
    _check_disjoint(utterances)
    digest = content_hash(utterances, policy)
    split_stats = stats(utterances)
    manifests: dict[str, str] = {s: dataset_key(digest, f"{s}/manifest.jsonl") for s in SPLITS}
    shards: dict[str, list[str]] = {s: [] for s in SPLITS}
    stats_key = dataset_key(digest, "stats.json")
    written = not blobs.exists(stats_key)
    for split in SPLITS:
        items = sorted((u for u in utterances if u.split == split), key=lambda u: u.audio_id)
        for start in range(0, len(items), policy.shard_size):
            key = dataset_key(digest, f"{split}/shard-{start // policy.shard_size:06d}.tar")
            shards[split].append(key)
            if written:
                blobs.put_bytes(key, _shard(blobs, items[start : start + policy.shard_size]))
        if written:
            lines = [json.dumps(_manifest_row(u), ensure_ascii=False) for u in items]
            blobs.put_bytes(manifests[split], ("\n".join(lines) + "\n" if lines else "").encode())
    report = DatasetReport(digest, split_stats, manifests, shards, written)
    if written:  # last: its presence marks a complete dataset
        blobs.put_bytes(stats_key, json.dumps(report.to_json(), ensure_ascii=False).encode())
    return report


def _manifest_row(u: Utterance) -> dict[str, Any]:
    return {
        "audio_filepath": u.blob_key,
        "text": u.text,
        "duration": u.duration,
        "speaker": u.speaker,
        "audio_id": u.audio_id,
        "label": u.label,
        "confidence": u.confidence,
        "model_version": u.model_version,
    }


def _shard(blobs: BlobStore, items: Sequence[Utterance]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for u in items:
            for suffix, data in (
                (".wav", blobs.get_bytes(u.blob_key)),
                (".json", json.dumps(_manifest_row(u), ensure_ascii=False).encode()),
            ):
                info = tarfile.TarInfo(u.audio_id + suffix)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _complete_report(blobs: BlobStore, dataset_hash: str) -> dict[str, Any]:
    try:
        body: dict[str, Any] = json.loads(blobs.get_bytes(dataset_key(dataset_hash, "stats.json")))
    except NotFoundError:
        raise NotFoundError(
            f"no complete dataset {dataset_hash}; see ai2text dataset build"
        ) from None
    return body


def shard_keys(blobs: BlobStore, dataset_hash: str, split: str) -> list[str]:
    """The blob keys of a built split's WebDataset shards."""
    keys = [str(k) for k in _complete_report(blobs, dataset_hash)["shards"][split]]
    if not keys:
        raise NotFoundError(f"dataset {dataset_hash} has no {split} utterances")
    return keys


def local_rows(blobs: BlobStore, dataset_hash: str, split: str, cache: Path) -> list[ManifestRow]:
    """A built split as manifest rows whose audio is a local file (downloaded once if needed)."""
    from ai2text.data.manifest import parse_row

    _complete_report(blobs, dataset_hash)
    key = dataset_key(dataset_hash, f"{split}/manifest.jsonl")
    rows = []
    for line in blobs.get_bytes(key).decode("utf-8").splitlines():
        row = parse_row(json.loads(line))
        local = blobs.local_path(row.audio_filepath) if hasattr(blobs, "local_path") else None
        if local is None:
            local = cache / row.audio_filepath
            if not local.is_file():
                blobs.download(row.audio_filepath, local)
        rows.append(replace(row, audio_filepath=str(local)))
    return rows

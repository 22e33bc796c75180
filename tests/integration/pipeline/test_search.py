"""Index and dataset stages, hybrid search and deletion, over the real pipeline: synthetic speech
through the bundled model, post-processing, MiniLM embeddings, PostgreSQL full text and both
vector backends (pgvector, Qdrant's local mode)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ai2text.bus.bus import EventBus, open_bus
from ai2text.bus.events import DATASET_READY, EMBEDDINGS_INDEXED
from ai2text.bus.worker import Worker
from ai2text.config import Settings
from ai2text.data.builder import SelectionPolicy, build, select
from ai2text.errors import InputError, NotFoundError
from ai2text.pipeline.ingest import ingest_audio
from ai2text.pipeline.runner import Engines, Pipeline
from ai2text.registry.registry import ModelRegistry
from ai2text.search.hybrid import (
    DENSE_WEIGHT,
    LEXICAL_WEIGHT,
    RRF_K,
    SearchFilters,
    SearchQuery,
    search,
)
from ai2text.search.index import COLLECTION
from ai2text.store.blobs import BlobStore, open_blob_store, transcript_key
from ai2text.store.database import Database
from ai2text.store.recordings import delete_recording, read_audio
from ai2text.store.transcripts import correct_transcript, get_transcript
from ai2text.store.vectors import PgVectorStore, QdrantVectorStore, VectorStore
from tests.conftest import BOOTSTRAP
from tests.integration.pipeline.flow import drain, speaker_in, synthesize_files

pytestmark = pytest.mark.integration
SENTENCES = [
    "xin chào các bạn",
    "hôm nay trời đẹp quá",
    "tôi thích đọc sách buổi tối",
    "thành phố có nhiều cây xanh",
]


@pytest.fixture(scope="module")
def engines() -> Iterator[Engines]:
    from ai2text.asr.bootstrap import bundled_bootstrap
    from ai2text.asr.model import load_model
    from ai2text.asr.transcriber import Transcriber
    from ai2text.search.embedder import TextEmbedder

    bundled = bundled_bootstrap()
    assert bundled is not None
    embedder = TextEmbedder()
    with Transcriber(load_model(bundled.path), model_version=bundled.version) as transcriber:
        yield Engines(transcriber.transcribe, lambda: bundled.version, embedder)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return synthesize_files(SENTENCES, tmp_path_factory.mktemp("speech"), seed=11)


@dataclass
class Flow:
    settings: Settings
    db: Database
    bus: EventBus
    blobs: BlobStore
    vectors: VectorStore
    workers: list[Worker]
    ids: list[Any]


def _flow(
    settings: Settings, db: Database, engines: Engines, speech: list[Path], vectors: VectorStore
) -> Iterator[Flow]:
    bus = open_bus(settings, db)
    registry = ModelRegistry.from_settings(db, settings)
    pipeline = Pipeline(settings, registry, bus, registry.blobs, vectors, engines,
                        hot_folder=False, training=False)  # fmt: skip
    speakers = [speaker_in("train"), speaker_in("train", "other"), speaker_in("test"), None]
    ids = [
        ingest_audio(db, registry.blobs, bus, path.read_bytes(), audio=settings.audio,
                     source="upload", actor="test", speaker_id=speaker).audio_id
        for path, speaker in zip(speech, speakers, strict=True)
    ]  # fmt: skip
    drain(pipeline.workers)
    yield Flow(settings, db, bus, open_blob_store(settings), vectors, pipeline.workers, ids)
    bus.close()


@pytest.fixture
def flow(settings: Settings, db: Database, engines: Engines, speech: list[Path]) -> Iterator[Flow]:
    yield from _flow(settings, db, engines, speech, PgVectorStore(db))


def _search(flow: Flow, engines: Engines, text: str, **kwargs: Any) -> list[Any]:
    query = SearchQuery(text, **kwargs)
    vector = engines.embed([text])[0] if query.needs_vector else None
    return search(flow.db, flow.vectors, query, vector)


def test_every_recording_is_indexed_once_with_its_words(flow: Flow) -> None:
    with flow.db.connection() as conn:
        rows = conn.execute("SELECT audio_id, text, words FROM search_documents").fetchall()
        events = conn.execute(
            "SELECT count(*) FROM bus_events WHERE type = %s", (EMBEDDINGS_INDEXED,)
        ).fetchone()
    assert {r[0] for r in rows} == set(flow.ids) and events == (4,)
    assert all(r[1] and r[2] and "start" in r[2][0] for r in rows)
    assert flow.vectors.count(COLLECTION) == 4


def test_folded_query_finds_the_marked_words_with_their_times(flow: Flow, engines: Engines) -> None:
    # the tiny model may drop a tone; a human correction (re-indexed through the bus) fixes it
    with flow.db.connection() as conn:
        correct_transcript(conn, flow.ids[0], "Xin chào các bạn", actor="tester", bus=flow.bus)
    drain(flow.workers)
    for mode in ("hybrid", "lexical"):
        hits = _search(flow, engines, "xin chao", mode=mode)
        assert hits and hits[0].audio_id == flow.ids[0], (mode, [h.snippet for h in hits])
        best = hits[0]
        assert len(best.matches) == 2  # the word times come from the machine transcript
        assert best.start == best.matches[0].start and 0 <= best.start < best.matches[1].end
        assert best.snippet == "Xin chào các bạn" and best.lexical_rank == 1
    exact = _search(flow, engines, "thành phố", mode="lexical")
    assert exact[0].audio_id == flow.ids[3]


def test_dense_search_finds_by_meaning_and_fusion_keeps_both_lists(
    flow: Flow, engines: Engines
) -> None:
    dense = _search(flow, engines, "hôm nay trời đẹp quá", mode="dense")
    assert dense[0].audio_id == flow.ids[1] and dense[0].dense_rank == 1
    hybrid = _search(flow, engines, "hôm nay trời đẹp quá")
    assert hybrid[0].audio_id == flow.ids[1]
    assert hybrid[0].lexical_rank == 1 and hybrid[0].dense_rank == 1
    assert hybrid[0].score == pytest.approx((LEXICAL_WEIGHT + DENSE_WEIGHT) / (RRF_K + 1))


def test_filters_narrow_every_side(flow: Flow, engines: Engines) -> None:
    train_speaker = speaker_in("train")
    for mode in ("hybrid", "lexical", "dense"):
        only = _search(flow, engines, "xin chao hôm nay", mode=mode,
                       filters=SearchFilters(speaker_id=train_speaker))  # fmt: skip
        assert {h.audio_id for h in only} == {flow.ids[0]}, mode
        test_split = _search(flow, engines, "thành phố sách", mode=mode,
                             filters=SearchFilters(split="test"))  # fmt: skip
        assert {h.audio_id for h in test_split} <= {flow.ids[2]}, mode
    future = datetime.now(UTC) + timedelta(days=1)
    assert _search(flow, engines, "xin chao", filters=SearchFilters(since=future)) == []
    assert _search(flow, engines, "xin chao", filters=SearchFilters(verified=True)) == []
    with flow.db.connection() as conn:
        correct_transcript(conn, flow.ids[0], "xin chào các bạn", actor="tester", bus=flow.bus)
    drain(flow.workers)  # the correction is re-indexed as verified
    verified = _search(flow, engines, "xin chao", mode="lexical",
                       filters=SearchFilters(verified=True))  # fmt: skip
    assert [h.audio_id for h in verified] == [flow.ids[0]]
    assert verified[0].start is not None  # the machine transcript's word times are kept
    for mode, found in (("lexical", 1), ("dense", 4)):
        by_version = _search(flow, engines, "xin chao", mode=mode,
                             filters=SearchFilters(model_version=BOOTSTRAP))  # fmt: skip
        assert len(by_version) == found, mode
        assert _search(flow, engines, "xin chao", mode=mode,
                       filters=SearchFilters(model_version="other")) == []  # fmt: skip


def test_bad_queries_are_refused() -> None:
    for bad in ({"text": " "}, {"text": "a" * 501}, {"text": "x", "limit": 0}):
        with pytest.raises(InputError):
            SearchQuery(**bad)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        SearchFilters(since=datetime(2026, 1, 1))  # no time zone
    with pytest.raises(InputError):
        SearchFilters(
            since=datetime(2026, 2, 1, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC)
        )


def test_dataset_ready_is_announced_once_per_crossing(
    settings: Settings, db: Database, engines: Engines, speech: list[Path]
) -> None:
    # two train-split recordings of ~1-2 s each: a threshold of 1 s crosses twice at most
    tight = settings.model_copy(
        update={"pipeline": settings.pipeline.model_copy(
            update={"dataset_ready_hours": 1 / 3600, "min_confidence": 0.0})}
    )  # fmt: skip
    flow = next(_flow(tight, db, engines, speech, PgVectorStore(db)))
    with db.connection() as conn:
        ready = conn.execute(
            "SELECT data, idempotency_key FROM bus_events WHERE type = %s ORDER BY created_at",
            (DATASET_READY,),
        ).fetchall()
        progress = conn.execute("SELECT crossings, hours FROM dataset_progress").fetchone()
    assert progress is not None
    train_hours = progress[1]["train"]
    assert progress[0] == int(train_hours * 3600) >= 2
    crossings = [r[0]["crossing"] for r in ready]
    assert crossings == sorted(set(crossings)) and crossings[-1] == progress[0]
    assert len({r[1] for r in ready}) == len(ready)
    assert set(progress[1]) == {"train", "test"}
    flow.bus.close()


def test_a_deleted_recording_is_gone_everywhere(flow: Flow, engines: Engines) -> None:
    gone = flow.ids[0]
    with flow.db.connection() as conn:
        blob_key = conn.execute("SELECT blob_key FROM audio WHERE id = %s", (gone,)).fetchone()
    assert blob_key is not None and flow.blobs.exists(blob_key[0])
    assert read_audio(flow.db, flow.blobs, gone, "bytes=0-43").data[:4] == b"RIFF"
    policy = SelectionPolicy(min_confidence=0.0)
    assert str(gone) in {u.audio_id for u in select(flow.db, policy)}
    result = delete_recording(flow.db, flow.blobs, flow.vectors, gone, actor="tester")
    assert result["deleted"] is True
    assert gone not in {h.audio_id for h in _search(flow, engines, "xin chao", limit=10)}
    with pytest.raises(NotFoundError), flow.db.connection() as conn:
        get_transcript(conn, gone)
    with pytest.raises(NotFoundError):
        read_audio(flow.db, flow.blobs, gone, None)
    assert not flow.blobs.exists(blob_key[0]) and not flow.blobs.exists(transcript_key(gone))
    assert flow.vectors.count(COLLECTION) == 3
    report = build(flow.db, flow.blobs, policy)
    manifests = "".join(flow.blobs.get_bytes(k).decode() for k in report.manifests.values())
    assert str(gone) not in manifests and str(flow.ids[1]) in manifests
    with flow.db.connection() as conn:
        audit = conn.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'recording.delete'"
        ).fetchall()
    assert audit[0][0] == "tester" and audit[0][1]["blobs"][0] == blob_key[0]
    with pytest.raises(NotFoundError):  # a repeated DELETE finds nothing left to remove
        delete_recording(flow.db, flow.blobs, flow.vectors, gone, actor="tester")


def test_qdrant_backend_gives_the_same_answers(
    settings: Settings, db: Database, engines: Engines, speech: list[Path], tmp_path: Path
) -> None:
    vectors = QdrantVectorStore.local(tmp_path / "qdrant")
    flow = next(_flow(settings, db, engines, speech, vectors))
    assert vectors.count(COLLECTION) == 4
    hits = _search(flow, engines, "xin chao")
    assert hits[0].audio_id == flow.ids[0] and hits[0].dense_rank is not None
    only = _search(flow, engines, "xin chao hôm nay", mode="dense",
                   filters=SearchFilters(speaker_id=speaker_in("train")))  # fmt: skip
    assert {h.audio_id for h in only} == {flow.ids[0]}
    delete_recording(db, flow.blobs, vectors, flow.ids[0], actor="tester")
    assert vectors.count(COLLECTION) == 3
    assert flow.ids[0] not in {h.audio_id for h in _search(flow, engines, "xin chao")}
    flow.bus.close()


def test_same_file_twice_is_one_record(flow: Flow, speech: list[Path]) -> None:
    again = ingest_audio(flow.db, flow.blobs, flow.bus, speech[1].read_bytes(),
                         audio=flow.settings.audio, source="hot_folder", actor="test")  # fmt: skip
    assert again.duplicate and again.audio_id == flow.ids[1]
    drain(flow.workers)
    with flow.db.connection() as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM audio), (SELECT count(*) FROM transcripts),"
            " (SELECT count(*) FROM search_documents)"
        ).fetchone()
    assert counts == (4, 4, 4)
    assert json.loads(flow.blobs.get_bytes(transcript_key(flow.ids[1])))["text_clean"]


def test_phrases_match_through_syllable_pairs_also_in_rows_indexed_before_them(
    flow: Flow,
) -> None:
    from ai2text.search.index import syllable_pairs
    from ai2text.store.migrations import load_migrations

    with flow.db.connection() as conn:
        audio_id, text, before = conn.execute(
            "SELECT audio_id, text, lexemes::text FROM search_documents ORDER BY audio_id LIMIT 1"
        ).fetchone()
        lexemes = {x for (x,) in conn.execute(
            "SELECT lexeme FROM unnest((SELECT lexemes FROM search_documents"
            " WHERE audio_id = %s))", (audio_id,)).fetchall()}  # fmt: skip
        pairs = set(syllable_pairs(text))
        assert pairs and pairs <= lexemes
        # a row as 0004 wrote it (no pairs), then migration 0005's backfill
        conn.execute(
            "UPDATE search_documents SET lexemes = ts_delete(lexemes, %s::text[])"
            " WHERE audio_id = %s",
            (sorted(pairs), audio_id),
        )
        (backfill,) = [m for m in load_migrations() if m.version == 5]
        conn.execute(backfill.sql)
        after = conn.execute(
            "SELECT lexemes::text FROM search_documents WHERE audio_id = %s", (audio_id,)
        ).fetchone()[0]
    assert after == before
    words = text.split()
    phrase = " ".join(words[:3])
    hits = search(flow.db, flow.vectors, SearchQuery(phrase, mode="lexical"))
    assert hits and hits[0].audio_id == audio_id
    assert [m.word for m in hits[0].matches] == words[:3]

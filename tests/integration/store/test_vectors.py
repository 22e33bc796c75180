"""The same contract for pgvector and Qdrant (qdrant-client's local mode in place of a server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ai2text.errors import InputError, NotFoundError
from ai2text.store.database import Database
from ai2text.store.vectors import (
    PgVectorStore,
    QdrantVectorStore,
    VectorPoint,
    VectorStore,
    point_id,
)


@pytest.fixture(params=["pgvector", "qdrant"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    if request.param == "pgvector":
        yield PgVectorStore(request.getfixturevalue("db"))
    else:
        qdrant = QdrantVectorStore.local(tmp_path / "qdrant")
        yield qdrant
        qdrant.client.close()


def points() -> list[VectorPoint]:
    return [
        VectorPoint("a:0", [1.0, 0.0, 0.0], {"audio_id": "a", "speaker": "s1", "verified": True}),
        VectorPoint("a:1", [0.9, 0.1, 0.0], {"audio_id": "a", "speaker": "s1", "verified": False}),
        VectorPoint("b:0", [0.0, 1.0, 0.0], {"audio_id": "b", "speaker": "s2", "verified": True}),
        VectorPoint("c:0", [0.0, 0.0, 1.0], {"audio_id": "c", "speaker": "s2", "verified": False}),
    ]


def test_upsert_is_idempotent_and_search_ranks_by_cosine(store: VectorStore) -> None:
    store.ensure_collection("segments", 3)
    store.ensure_collection("segments", 3)
    store.upsert("segments", points())
    store.upsert("segments", points())
    assert store.count("segments") == 4
    hits = store.search("segments", [1.0, 0.05, 0.0], limit=2)
    assert [h.id for h in hits] == [point_id("a:0"), point_id("a:1")]
    assert hits[0].score == pytest.approx(0.99875, abs=1e-3)
    assert hits[0].payload["speaker"] == "s1"


def test_filtered_top_k(store: VectorStore) -> None:
    store.ensure_collection("segments", 3)
    store.upsert("segments", points())
    hits = store.search("segments", [1.0, 0.0, 0.0], limit=10, filters={"speaker": "s2"})
    assert {h.id for h in hits} == {point_id("b:0"), point_id("c:0")}
    hits = store.search(
        "segments", [1.0, 0.0, 0.0], limit=10, filters={"speaker": "s1", "verified": True}
    )
    assert [h.id for h in hits] == [point_id("a:0")]


def test_update_replaces_the_point(store: VectorStore) -> None:
    store.ensure_collection("segments", 3)
    store.upsert("segments", points())
    store.upsert(
        "segments", [VectorPoint("c:0", [1.0, 0.0, 0.0], {"audio_id": "c", "speaker": "s9"})]
    )
    assert store.count("segments") == 4
    (hit,) = store.search("segments", [0.0, 0.0, 1.0], limit=5, filters={"audio_id": "c"})
    assert (hit.id, hit.payload["speaker"]) == (point_id("c:0"), "s9")
    assert hit.score == pytest.approx(0.0, abs=1e-6)


def test_delete_by_key_and_by_filter(store: VectorStore) -> None:
    store.ensure_collection("segments", 3)
    store.upsert("segments", points())
    store.delete("segments", ["b:0"])
    assert store.count("segments") == 3
    store.delete_where("segments", {"audio_id": "a"})
    assert [h.id for h in store.search("segments", [1.0, 1.0, 1.0], limit=10)] == [point_id("c:0")]


def test_bad_input_is_refused(store: VectorStore) -> None:
    with pytest.raises(InputError):
        store.ensure_collection("Bad-Name; DROP TABLE audio", 3)
    with pytest.raises(NotFoundError):
        store.search("missing", [1.0, 0.0, 0.0])
    store.ensure_collection("segments", 3)
    with pytest.raises(InputError, match="dimension"):
        store.ensure_collection("segments", 4)
    with pytest.raises(InputError, match="3"):
        store.upsert("segments", [VectorPoint("x", [1.0, 0.0], {})])
    with pytest.raises(InputError):
        store.search("segments", [1.0, 0.0, 0.0], filters={"a'b": 1})
    with pytest.raises(InputError):
        store.delete_where("segments", {})


def test_pgvector_joins_the_callers_transaction(db: Database) -> None:
    store = PgVectorStore(db)
    store.ensure_collection("segments", 3)
    with db.connection() as conn, pytest.raises(RuntimeError), conn.transaction():
        store.upsert("segments", points(), conn=conn)
        raise RuntimeError("the stage failed after indexing")
    assert store.count("segments") == 0

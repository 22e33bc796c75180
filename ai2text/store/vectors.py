"""Vector storage: one interface over pgvector (in the metadata database) and Qdrant.

Points are addressed by a caller's key (``"{audio_id}:{segment}"``, say); the stored id is a UUIDv5
of that key, so a repeated upsert replaces the point instead of adding a twin. Payload filters are
equality on top-level fields, ranges are inclusive bounds on numeric ones. Scores are cosine
similarity (1 is identical), the same on both backends. pgvector writes join the caller's
transaction when given its connection, so a stage's metadata and its vectors commit together on the
embedded default; Qdrant writes at once and is made safe by the keyed, idempotent upsert.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from psycopg import sql
from psycopg.types.json import Jsonb

from ai2text.config import Settings
from ai2text.errors import InputError, NotFoundError, StorageError
from ai2text.store.database import Conn, Database

POINT_NAMESPACE = uuid.UUID("5f0b8f0e-2f55-4c1e-9a7c-6a1d2b3c4e5f")
_COLLECTION = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
Scalar = str | int | float | bool
Range = tuple[float | None, float | None]
"""Inclusive bounds on a numeric payload field; None leaves that side open."""


def point_id(key: str) -> uuid.UUID:
    """The stored id of a point: stable for a key across runs and backends."""
    return uuid.uuid5(POINT_NAMESPACE, key)


@dataclass(frozen=True)
class VectorPoint:
    key: str
    vector: Sequence[float]
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorHit:
    id: uuid.UUID
    score: float
    payload: Mapping[str, Any]


def _check_collection(name: str) -> str:
    if not _COLLECTION.match(name):
        raise InputError(f"invalid collection name {name!r}: use [a-z][a-z0-9_]*, 48 chars at most")
    return name


def _check_filters(filters: Mapping[str, Scalar] | None) -> Mapping[str, Scalar]:
    for name in filters or {}:
        if not _FIELD.match(name):
            raise InputError(f"invalid filter field {name!r}")
    return filters or {}


def _check_vector(vector: Sequence[float], dim: int) -> list[float]:
    if len(vector) != dim:
        raise InputError(f"vector has {len(vector)} dimensions, the collection expects {dim}")
    return [float(x) for x in vector]


def _check_ranges(ranges: Mapping[str, Range] | None) -> Mapping[str, Range]:
    for name, (low, high) in (ranges or {}).items():
        if not _FIELD.match(name):
            raise InputError(f"invalid range field {name!r}")
        if low is not None and high is not None and low > high:
            raise InputError(f"the range on {name} is empty: {low} > {high}")
    return ranges or {}


class VectorStore(Protocol):
    def ensure_collection(self, name: str, dim: int) -> None: ...

    def exists(self, name: str) -> bool: ...

    def upsert(
        self, name: str, points: Sequence[VectorPoint], conn: Conn | None = None
    ) -> None: ...

    def search(
        self,
        name: str,
        vector: Sequence[float],
        limit: int = 10,
        filters: Mapping[str, Scalar] | None = None,
        ranges: Mapping[str, Range] | None = None,
    ) -> list[VectorHit]: ...

    def delete(self, name: str, keys: Sequence[str], conn: Conn | None = None) -> None: ...

    def delete_where(self, name: str, filters: Mapping[str, Scalar]) -> None: ...

    def count(self, name: str) -> int: ...

    def check(self) -> str: ...


class PgVectorStore:
    """One table per collection, ``vectors_{name}``, with an HNSW cosine index."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._dims: dict[str, int] = {}

    @staticmethod
    def _table(name: str) -> sql.Identifier:
        return sql.Identifier(f"vectors_{_check_collection(name)}")

    def _dim(self, conn: Conn, name: str) -> int:
        if name not in self._dims:
            row = conn.execute(
                "SELECT atttypmod FROM pg_attribute"
                " WHERE attrelid = to_regclass(%s) AND attname = 'embedding'",
                (f"vectors_{_check_collection(name)}",),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"vector collection {name} does not exist")
            self._dims[name] = int(row[0])
        return self._dims[name]

    def ensure_collection(self, name: str, dim: int) -> None:
        if not 1 <= dim <= 2000:
            raise InputError(f"vector dimension {dim} is outside 1..2000 (pgvector's HNSW limit)")
        table = self._table(name)
        with self.db.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"vectors_{name}",))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, key text NOT NULL,"
                    " embedding vector({}) NOT NULL, payload jsonb NOT NULL DEFAULT '{{}}')"
                ).format(table, sql.Literal(dim))
            )
            conn.execute(
                sql.SQL(
                    "CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding vector_cosine_ops)"
                ).format(sql.Identifier(f"vectors_{name}_hnsw"), table)
            )
            existing = self._dim(conn, name)
        if existing != dim:
            raise InputError(f"collection {name} exists with dimension {existing}, not {dim}")

    def exists(self, name: str) -> bool:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT to_regclass(%s)", (f"vectors_{_check_collection(name)}",)
            ).fetchone()
        return row is not None and row[0] is not None

    def upsert(self, name: str, points: Sequence[VectorPoint], conn: Conn | None = None) -> None:
        if conn is None:
            with self.db.connection() as own, own.transaction():
                self._upsert(own, name, points)
        else:
            self._upsert(conn, name, points)

    def _upsert(self, conn: Conn, name: str, points: Sequence[VectorPoint]) -> None:
        dim = self._dim(conn, name)
        rows = [
            (
                point_id(p.key),
                p.key,
                _vector_literal(_check_vector(p.vector, dim)),
                Jsonb(dict(p.payload)),
            )
            for p in points
        ]
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (id, key, embedding, payload) VALUES (%s, %s, %s::vector, %s)"
                    " ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding,"
                    " payload = EXCLUDED.payload"
                ).format(self._table(name)),
                rows,
            )

    def search(
        self,
        name: str,
        vector: Sequence[float],
        limit: int = 10,
        filters: Mapping[str, Scalar] | None = None,
        ranges: Mapping[str, Range] | None = None,
    ) -> list[VectorHit]:
        where, params = _payload_where(_check_filters(filters), _check_ranges(ranges))
        with self.db.connection() as conn, conn.transaction():
            query = _vector_literal(_check_vector(vector, self._dim(conn, name)))
            # the HNSW walk returns at most ef_search rows, and pgvector 0.6 filters after it:
            # look at enough candidates for the page, and more so a selective filter fills it
            ef_search = min(1000, max(40, limit, 20 * limit if params else 0))
            conn.execute(f"SET LOCAL hnsw.ef_search = {ef_search}")
            rows = conn.execute(
                sql.SQL(
                    "SELECT id, 1 - (embedding <=> %s::vector), payload FROM {} {}"
                    " ORDER BY embedding <=> %s::vector LIMIT %s"
                ).format(self._table(name), where),
                [query, *params, query, limit],
            ).fetchall()
        return [VectorHit(r[0], float(r[1]), r[2]) for r in rows]

    def delete(self, name: str, keys: Sequence[str], conn: Conn | None = None) -> None:
        ids = [point_id(k) for k in keys]
        statement = sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(self._table(name))
        if conn is None:
            with self.db.connection() as own:
                own.execute(statement, (ids,))
        else:
            conn.execute(statement, (ids,))

    def delete_where(self, name: str, filters: Mapping[str, Scalar]) -> None:
        if not filters:
            raise InputError("delete_where needs at least one filter")
        where, params = _payload_where(_check_filters(filters))
        with self.db.connection() as conn:
            conn.execute(sql.SQL("DELETE FROM {} {}").format(self._table(name), where), params)

    def count(self, name: str) -> int:
        with self.db.connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(self._table(name))
            ).fetchone()
        return int(row[0]) if row else 0

    def check(self) -> str:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
            ).fetchone()
        if row is None:
            raise StorageError("the pgvector extension is not installed in the metadata database")
        return f"pgvector {row[0]} in the metadata database"


def _vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def _payload_where(
    filters: Mapping[str, Scalar], ranges: Mapping[str, Range] | None = None
) -> tuple[sql.Composable, list[Any]]:
    clauses: list[sql.Composable] = [sql.SQL("payload @> %s") for _ in filters]
    params: list[Any] = [Jsonb({k: v}) for k, v in filters.items()]
    for name, (low, high) in (ranges or {}).items():
        field_value = sql.SQL("(payload->>{})::float8").format(sql.Literal(name))
        for bound, operator in ((low, ">="), (high, "<=")):
            if bound is not None:
                clauses.append(field_value + sql.SQL(f" {operator} %s"))
                params.append(float(bound))
    if not clauses:
        return sql.SQL(""), []
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


class QdrantVectorStore:
    """Qdrant through qdrant-client: a server by URL, or the client's local mode in a folder."""

    def __init__(self, client: Any, description: str) -> None:
        self.client = client
        self.description = description

    @classmethod
    def from_settings(cls, settings: Settings) -> QdrantVectorStore:
        from qdrant_client import QdrantClient

        if settings.qdrant_url:
            key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
            return cls(QdrantClient(url=settings.qdrant_url, api_key=key), settings.qdrant_url)
        return cls.local(settings.qdrant_dir)

    @classmethod
    def local(cls, path: Path) -> QdrantVectorStore:
        from qdrant_client import QdrantClient

        path.mkdir(parents=True, exist_ok=True)
        return cls(QdrantClient(path=str(path)), f"qdrant local mode in {path}")

    def ensure_collection(self, name: str, dim: int) -> None:
        from qdrant_client import models

        _check_collection(name)
        if self.client.collection_exists(name):
            existing = self.client.get_collection(name).config.params.vectors.size
            if existing != dim:
                raise InputError(f"collection {name} exists with dimension {existing}, not {dim}")
            return
        self.client.create_collection(
            name, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE)
        )

    def exists(self, name: str) -> bool:
        return bool(self.client.collection_exists(_check_collection(name)))

    def _dim(self, name: str) -> int:
        if not self.client.collection_exists(_check_collection(name)):
            raise NotFoundError(f"vector collection {name} does not exist")
        return int(self.client.get_collection(name).config.params.vectors.size)

    def upsert(self, name: str, points: Sequence[VectorPoint], conn: Conn | None = None) -> None:
        """Written at once (``conn`` is not joined): a repeated upsert replaces the same points."""
        from qdrant_client import models

        dim = self._dim(name)
        self.client.upsert(
            name,
            points=[
                models.PointStruct(
                    id=str(point_id(p.key)),
                    vector=_check_vector(p.vector, dim),
                    payload={**p.payload, "_key": p.key},
                )
                for p in points
            ],
            wait=True,
        )

    @staticmethod
    def _filter(
        filters: Mapping[str, Scalar] | None, ranges: Mapping[str, Range] | None = None
    ) -> Any:
        from qdrant_client import models

        checked, bounded = _check_filters(filters), _check_ranges(ranges)
        if not checked and not bounded:
            return None
        return models.Filter(
            must=[
                *(
                    models.FieldCondition(key=k, range=models.Range(gte=v, lte=v))
                    if isinstance(v, float)
                    else models.FieldCondition(key=k, match=models.MatchValue(value=v))
                    for k, v in checked.items()
                ),
                *(
                    models.FieldCondition(key=k, range=models.Range(gte=low, lte=high))
                    for k, (low, high) in bounded.items()
                ),
            ]
        )

    def search(
        self,
        name: str,
        vector: Sequence[float],
        limit: int = 10,
        filters: Mapping[str, Scalar] | None = None,
        ranges: Mapping[str, Range] | None = None,
    ) -> list[VectorHit]:
        result = self.client.query_points(
            name,
            query=_check_vector(vector, self._dim(name)),
            query_filter=self._filter(filters, ranges),
            limit=limit,
            with_payload=True,
        )
        return [
            VectorHit(
                uuid.UUID(str(p.id)),
                float(p.score),
                {k: v for k, v in (p.payload or {}).items() if k != "_key"},
            )
            for p in result.points
        ]

    def delete(self, name: str, keys: Sequence[str], conn: Conn | None = None) -> None:
        """Deleted at once (``conn`` is not joined); deleting an absent key is a no-op."""
        from qdrant_client import models

        self._dim(name)
        self.client.delete(
            name,
            points_selector=models.PointIdsList(points=[str(point_id(k)) for k in keys]),
            wait=True,
        )

    def delete_where(self, name: str, filters: Mapping[str, Scalar]) -> None:
        from qdrant_client import models

        if not filters:
            raise InputError("delete_where needs at least one filter")
        self._dim(name)
        self.client.delete(
            name, points_selector=models.FilterSelector(filter=self._filter(filters)), wait=True
        )

    def count(self, name: str) -> int:
        self._dim(name)
        return int(self.client.count(name, exact=True).count)

    def check(self) -> str:
        try:
            self.client.get_collections()
        except Exception as exc:
            raise StorageError(f"{self.description}: {exc}") from exc
        return self.description


def open_vector_store(settings: Settings, db: Database) -> VectorStore:
    """The configured backend."""
    if settings.vector_backend == "qdrant":
        return QdrantVectorStore.from_settings(settings)
    return PgVectorStore(db)

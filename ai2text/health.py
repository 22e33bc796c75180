"""The state of every component the platform needs, for ``ai2text doctor`` and ``/health``.

Each check really uses its component (a query, a blob round trip, a vector-store call, a bus
statistics read) and, when broken, says what to do. Components owned by later stages (model,
ffmpeg, espeak-ng, ray) register their checks here as they land.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ai2text.config import Settings
from ai2text.errors import Ai2TextError


@dataclass(frozen=True)
class ComponentState:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _safe(name: str, check: Callable[[], str], fix: str) -> ComponentState:
    try:
        return ComponentState(name, True, check())
    except Ai2TextError as exc:
        return ComponentState(name, False, f"{exc.message}; {fix}")
    except Exception as exc:
        return ComponentState(name, False, f"{type(exc).__name__}: {exc}; {fix}")


def check_components(settings: Settings) -> list[ComponentState]:
    """Check database, blobs, vectors and bus on the given settings."""
    from ai2text.store.blobs import open_blob_store
    from ai2text.store.database import Database, open_database

    states: list[ComponentState] = []
    db: Database | None = None

    def database() -> str:
        nonlocal db
        from ai2text.store.migrations import schema_version

        db = open_database(settings)
        with db.connection() as conn:
            row = conn.execute("SHOW server_version").fetchone()
            version = schema_version(conn)
        where = f"embedded in {settings.pgdata_dir}" if db.embedded else "external"
        return f"PostgreSQL {row[0] if row else '?'} ({where}), schema version {version}"

    states.append(
        _safe(
            "database",
            database,
            "set AI2TEXT_DATABASE_URL to a reachable PostgreSQL 16 with pgvector, or unset it to "
            "use the embedded server under AI2TEXT_HOME",
        )
    )
    states.append(
        _safe(
            "blobs",
            lambda: open_blob_store(settings).check(),
            "check AI2TEXT_BLOB_ROOT is writable, or the AI2TEXT_S3__* bucket, endpoint and keys",
        )
    )
    if db is None:
        states.append(ComponentState("vectors", False, "needs the database; fix it first"))
        states.append(ComponentState("bus", False, "needs the database; fix it first"))
        return states
    opened: Database = db
    try:
        states.append(_safe("vectors", lambda: _vectors(settings, opened), _VECTOR_FIX))
        states.append(_safe("bus", lambda: _bus(settings, opened), _BUS_FIX))
    finally:
        opened.close()
    return states


_VECTOR_FIX = (
    "for pgvector the metadata database needs the vector extension; for Qdrant check "
    "AI2TEXT_QDRANT_URL and AI2TEXT_QDRANT_API_KEY"
)
_BUS_FIX = (
    "for the PostgreSQL transport the database must be migrated (ai2text db migrate); for NATS "
    "start nats-server with -js and check AI2TEXT_BUS__NATS_URL"
)


def _vectors(settings: Settings, db: Any) -> str:
    from ai2text.store.vectors import open_vector_store

    return open_vector_store(settings, db).check()


def _bus(settings: Settings, db: Any) -> str:
    from ai2text.bus.bus import open_bus

    bus = open_bus(settings, db)
    try:
        stats = bus.stats()
    finally:
        bus.close()
    waiting = sum(s.pending for s in stats)
    dead = sum(s.dead for s in stats)
    return (
        f"{bus.transport.name} transport, {len(stats)} consumers, "
        f"{waiting} deliveries waiting, {dead} dead letters"
    )

"""The metadata database: an embedded PostgreSQL under ``AI2TEXT_HOME``, or any server by URL.

:func:`open_database` is the one way in. It starts the embedded server from the ``pgserver`` wheel
when ``AI2TEXT_DATABASE_URL`` is unset (Unix socket only, no TCP listener), opens a connection pool,
applies migrations and records the installation's split policy. Every process of the platform
(CLI, workers, servers) calls it; pgserver reference-counts the processes that use one data folder
and stops the server after the last one exits.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from ai2text.config import Settings, SplitPolicy
from ai2text.errors import ConfigError, StorageError
from ai2text.store.migrations import apply_migrations

Conn = psycopg.Connection[TupleRow]


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or join) the embedded PostgreSQL in ``pgdata``; return its connection URI."""
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        import pgserver

        try:
            server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        except Exception as exc:
            raise StorageError(
                f"cannot start the embedded PostgreSQL in {pgdata}: {exc}; check that the folder "
                "is writable and holds no other PostgreSQL version, or set AI2TEXT_DATABASE_URL"
            ) from exc
    return str(server.get_uri())


def ensure_split_policy(conn: Conn, policy: SplitPolicy) -> SplitPolicy:
    """Record the split ratios on first use; refuse settings that contradict the recorded ones."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO split_policy (train_percent, val_percent) VALUES (%s, %s)"
            " ON CONFLICT (singleton) DO NOTHING",
            (policy.train_percent, policy.val_percent),
        )
        row = conn.execute("SELECT train_percent, val_percent FROM split_policy").fetchone()
    assert row is not None  # the insert above guarantees the row
    recorded = SplitPolicy(train_percent=row[0], val_percent=row[1])
    if recorded != policy:
        raise ConfigError(
            f"this installation assigns speakers with train={recorded.train_percent}% "
            f"val={recorded.val_percent}%, but the settings ask for train={policy.train_percent}% "
            f"val={policy.val_percent}%; split ratios are fixed once speakers are assigned"
        )
    return recorded


@dataclass
class Database:
    """A pooled PostgreSQL with the ai2text schema applied."""

    url: str
    embedded: bool
    pool: ConnectionPool[Conn] = field(repr=False)

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        """A pooled connection; use ``with conn.transaction():`` for each unit of work."""
        with self.pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def database_url(settings: Settings) -> tuple[str, bool]:
    """The URL to connect to and whether it is the embedded server (started here if needed)."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value(), False
    return start_embedded_postgres(settings.pgdata_dir), True


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Connect (starting the embedded server if needed), migrate, and check the split policy."""
    url, embedded = database_url(settings)
    try:
        # One direct connection first: it fails fast with the server's own reason, where the
        # pool would retry in the background until its timeout.
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.Error as exc:
        raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
    kwargs: dict[str, Any] = {"autocommit": True}
    pool: ConnectionPool[Conn] = ConnectionPool(
        url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        kwargs=kwargs,
        open=False,
        name="ai2text",
    )
    try:
        pool.open(wait=True, timeout=30)
    except Exception as exc:
        raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
    db = Database(url=url, embedded=embedded, pool=pool)
    try:
        if migrate:
            with db.connection() as conn:
                apply_migrations(conn)
                ensure_split_policy(conn, settings.splits)
    except BaseException:
        db.close()
        raise
    return db

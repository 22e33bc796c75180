"""Versioned SQL migrations, applied at start-up by every process that opens the database.

Files in ``migrations/`` are named ``NNNN_name.sql`` and applied in order, each recorded with its
checksum in ``schema_migrations``. All pending files run in one transaction under an advisory lock,
so two processes starting at once serialise: the second waits, then finds nothing to do. A file
changed after it was applied is refused rather than silently diverging.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg.rows import TupleRow

from ai2text.errors import MigrationError

# pg_advisory_xact_lock key: "ai2t" in ASCII, so other tools sharing the database can tell it apart.
MIGRATION_LOCK_KEY = 0x61693274
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    """The migrations shipped with the package, in version order."""
    found: list[Migration] = []
    for entry in resources.files("ai2text.store").joinpath("migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version: {versions}")
    return found


def apply_migrations(
    conn: psycopg.Connection[TupleRow], migrations: list[Migration] | None = None
) -> list[int]:
    """Bring the schema up to date; return the versions applied now (empty when already current)."""
    wanted = load_migrations() if migrations is None else migrations
    applied_now: list[int] = []
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            rows = conn.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
            done = {int(r[0]): (str(r[1]), str(r[2])) for r in rows}
            for migration in wanted:
                if migration.version in done:
                    name, checksum = done[migration.version]
                    if checksum != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version:04d}_{name} was changed after it was "
                            "applied; add a new migration instead of editing an applied one"
                        )
                    continue
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
                applied_now.append(migration.version)
            unknown = sorted(set(done) - {m.version for m in wanted})
            if unknown:
                raise MigrationError(
                    f"the database has migrations {unknown} that this ai2text does not know: "
                    "upgrade ai2text before using this database"
                )
    except psycopg.Error as exc:
        raise MigrationError(f"migration failed: {exc}") from exc
    return applied_now


def schema_version(conn: psycopg.Connection[TupleRow]) -> int:
    """The highest applied migration, 0 for an empty database."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0

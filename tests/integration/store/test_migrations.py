from __future__ import annotations

import multiprocessing as mp

import psycopg
import pytest

from ai2text.errors import MigrationError
from ai2text.store.migrations import Migration, apply_migrations, load_migrations, schema_version


def schema_snapshot(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_schema = 'public'"
            " ORDER BY table_name, column_name"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        triggers = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
        ).fetchall()
        migrations = conn.execute(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
        ).fetchall()
    return [*columns, *indexes, *triggers, *migrations]


def _migrate(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return apply_migrations(conn)


def test_applying_twice_changes_nothing(db_url: str) -> None:
    assert _migrate(db_url) == [m.version for m in load_migrations()]
    first = schema_snapshot(db_url)
    assert _migrate(db_url) == []
    assert schema_snapshot(db_url) == first


def test_two_processes_at_once_give_the_same_schema(db_url: str, pg_url: str) -> None:
    with mp.get_context("spawn").Pool(2) as pool:
        applied = pool.map(_migrate, [db_url, db_url])
    # exactly one process applied everything; the other waited on the lock and found it done
    assert sorted(applied, key=len) == [[], [m.version for m in load_migrations()]]
    concurrent = schema_snapshot(db_url)

    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE mig_serial")
    serial_url = psycopg.conninfo.make_conninfo(pg_url, dbname="mig_serial")
    try:
        _migrate(serial_url)
        assert concurrent == schema_snapshot(serial_url)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("DROP DATABASE mig_serial WITH (FORCE)")


def test_an_edited_applied_migration_is_refused(db_url: str) -> None:
    _migrate(db_url)
    edited = [
        Migration(m.version, m.name, m.sql + "\n-- edited") if m.version == 1 else m
        for m in load_migrations()
    ]
    with (
        psycopg.connect(db_url, autocommit=True) as conn,
        pytest.raises(MigrationError, match="changed"),
    ):
        apply_migrations(conn, edited)


def test_a_database_from_a_newer_ai2text_is_refused(db_url: str) -> None:
    newer = [*load_migrations(), Migration(9999, "future", "SELECT 1")]
    with psycopg.connect(db_url, autocommit=True) as conn:
        apply_migrations(conn, newer)
        with pytest.raises(MigrationError, match="upgrade ai2text"):
            apply_migrations(conn)
        assert schema_version(conn) == 9999

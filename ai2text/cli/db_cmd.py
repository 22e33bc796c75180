"""``ai2text db``: the metadata database (embedded by default)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("db", help="metadata database: migrate, url, start")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    migrate = actions.add_parser(
        "migrate",
        help="apply pending migrations (every command also does this at start-up)",
        epilog="example: AI2TEXT_DATABASE_URL=postgresql://u:p@db/ai2text ai2text db migrate",
    )
    migrate.set_defaults(run=run_migrate)
    url = actions.add_parser("url", help="print the connection URL (starting the embedded server)")
    url.set_defaults(run=run_url)
    start = actions.add_parser(
        "start",
        help="keep the embedded PostgreSQL running in the foreground until Ctrl-C",
        epilog='example: ai2text db start  # then psql "$(ai2text db url)" in another shell',
    )
    start.set_defaults(run=run_start)


def run_migrate(args: argparse.Namespace) -> int:
    from ai2text.config import load_settings
    from ai2text.store.database import open_database
    from ai2text.store.migrations import schema_version

    with open_database(load_settings()) as db, db.connection() as conn:
        print(f"schema version {schema_version(conn)}")
    return 0


def run_url(args: argparse.Namespace) -> int:
    from ai2text.config import load_settings
    from ai2text.store.database import database_url

    print(database_url(load_settings())[0])
    return 0


def run_start(args: argparse.Namespace) -> int:
    from ai2text.config import load_settings
    from ai2text.store.database import open_database
    from ai2text.store.migrations import schema_version

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_database(load_settings()) as db:
        with db.connection() as conn:
            version = schema_version(conn)
        print(
            f"PostgreSQL ready at {db.url} (schema version {version}); Ctrl-C stops it", flush=True
        )
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0

"""``ai2text bus``: the event bus's consumers and their queues."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("bus", help="event bus: stats")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    stats = actions.add_parser(
        "stats",
        help="per consumer: waiting, in hand, dead letters, handled",
        epilog="example: ai2text bus stats",
    )
    stats.set_defaults(run=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    from ai2text.bus.bus import open_bus
    from ai2text.config import load_settings
    from ai2text.store.database import open_database

    settings = load_settings()
    with open_database(settings) as db:
        bus = open_bus(settings, db)
        try:
            for stat in bus.stats():
                print(json.dumps(asdict(stat)))
        finally:
            bus.close()
    return 0

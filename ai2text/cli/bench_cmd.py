"""``ai2text bench``: measurements side by side with a named peer, as JSON lines."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("bench", help="benchmarks, printed as JSON lines")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    bus = kinds.add_parser(
        "bus",
        help="events/s through the PostgreSQL queue vs a bare INSERT/DELETE loop",
        epilog="example: ai2text bench bus --events 20000 --consumers 1 4",
    )
    bus.add_argument("--events", type=_positive, default=20000, help="events per measurement")
    bus.add_argument(
        "--consumers", type=_positive, nargs="+", default=[1, 4], help="consumer process counts"
    )
    bus.add_argument(
        "--batch", type=_positive, default=200, help="events per claim and per enqueue"
    )
    bus.set_defaults(run=run_bus)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def run_bus(args: argparse.Namespace) -> int:
    from ai2text.bench.bus_bench import bench_bus
    from ai2text.config import load_settings

    settings = load_settings()
    for consumers in args.consumers:
        result = bench_bus(settings, events=args.events, consumers=consumers, batch=args.batch)
        print(json.dumps(result.to_json()), flush=True)
    return 0

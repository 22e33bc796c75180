"""``ai2text doctor``: is every component usable? Exit 0 only when all are."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "doctor",
        help="check every component and say what to fix",
        description="Check database, blobs, vectors and bus on the current settings.",
        epilog="example: ai2text doctor --json",
    )
    parser.add_argument("--json", action="store_true", help='print {"components": [...]}')
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ai2text.config import load_settings
    from ai2text.health import check_components

    states = check_components(load_settings())
    if args.json:
        print(json.dumps({"components": [s.to_json() for s in states]}, ensure_ascii=False))
    else:
        width = max(len(s.name) for s in states)
        for state in states:
            mark = "ok  " if state.ok else "FAIL"
            print(f"{mark} {state.name:<{width}}  {state.detail}")
    return 0 if all(s.ok for s in states) else 1

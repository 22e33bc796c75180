"""``ai2text dataset``: speaker-disjoint datasets from the metadata database."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("dataset", help="datasets from collected audio: build, stats")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in (
        ("build", "write manifests and WebDataset shards to blobs under a content hash"),
        ("stats", "hours, utterances and speakers per split, without writing anything"),
    ):
        action = actions.add_parser(
            name, help=help_text, epilog=f"example: ai2text dataset {name} --min-confidence 0.9"
        )
        action.add_argument("--min-confidence", type=float, default=0.9)
        action.add_argument("--no-pseudo", action="store_true", help="verified transcripts only")
        action.add_argument("--shard-size", type=int, default=500)
        action.set_defaults(run=run_build if name == "build" else run_stats)


def _policy(args: argparse.Namespace) -> Any:
    from ai2text.data.builder import SelectionPolicy

    return SelectionPolicy(
        min_confidence=args.min_confidence,
        include_pseudo=not args.no_pseudo,
        shard_size=args.shard_size,
    )


def run_build(args: argparse.Namespace) -> int:
    from ai2text.cli.context import open_platform
    from ai2text.data.builder import build

    with open_platform() as platform:
        report = build(platform.db, platform.registry.blobs, _policy(args))
    print(json.dumps(report.to_json(), ensure_ascii=False))
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ai2text.cli.context import open_platform
    from ai2text.data.builder import select, stats

    with open_platform() as platform:
        split_stats = stats(select(platform.db, _policy(args)))
    print(json.dumps({k: asdict(v) for k, v in split_stats.items()}))
    return 0

"""``ai2text models``: the model registry."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "models", help="model registry: list, show, import, promote, bootstrap, gate"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every version, newest first").set_defaults(run=run_list)
    show = actions.add_parser("show", help="one version as JSON")
    show.add_argument("version")
    show.set_defaults(run=run_show)
    imported = actions.add_parser(
        "import",
        help="check a .nemo loads, store it and register a candidate version",
        epilog="example: ai2text models import ./fastconformer.nemo --version vi-fc-1",
    )
    imported.add_argument("path", type=Path)
    imported.add_argument("--version", help="default: PRESET-SHA256[:12]")
    imported.set_defaults(run=run_import)
    promote = actions.add_parser(
        "promote",
        help="make a version production (the default for transcribe, eval and serving)",
        epilog="example: ai2text models promote tiny-3f2a9c1d0b7e --reason 'beats v3 on test'",
    )
    promote.add_argument("version")
    promote.add_argument("--reason", default="promoted by hand")
    promote.set_defaults(run=run_promote)
    bootstrap = actions.add_parser(
        "bootstrap",
        help="make the bundled bootstrap model production if there is no production model",
    )
    bootstrap.set_defaults(run=run_bootstrap)
    gate = actions.add_parser(
        "gate",
        help="score a candidate and production on a test manifest; promote only if better",
        epilog="example: ai2text models gate tiny-3f2a9c1d0b7e --manifest test/manifest.jsonl",
    )
    gate.add_argument("version")
    gate.add_argument("--manifest", type=Path, required=True, help="held-out speakers' utterances")
    gate.set_defaults(run=run_gate)


def _actor() -> str:
    return f"cli:{os.environ.get('USER', 'unknown')}"


def run_list(args: argparse.Namespace) -> int:
    from ai2text.cli.context import open_platform

    with open_platform() as platform:
        for entry in platform.registry.list():
            print(json.dumps(entry.to_json(), ensure_ascii=False))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from ai2text.cli.context import open_platform

    with open_platform() as platform:
        print(
            json.dumps(platform.registry.get(args.version).to_json(), ensure_ascii=False, indent=2)
        )
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ai2text.cli.context import open_platform

    with open_platform() as platform:
        entry = platform.registry.register(args.path, actor=_actor(), version=args.version)
        print(json.dumps(entry.to_json(), ensure_ascii=False))
    return 0


def run_promote(args: argparse.Namespace) -> int:
    from ai2text.bus.bus import open_bus
    from ai2text.cli.context import open_platform

    with open_platform() as platform:
        bus = open_bus(platform.settings, platform.db)
        try:
            entry = platform.registry.promote(
                args.version, actor=_actor(), reason=args.reason, bus=bus
            )
        finally:
            bus.close()
        print(json.dumps(entry.to_json(), ensure_ascii=False))
    return 0


def run_bootstrap(args: argparse.Namespace) -> int:
    from ai2text.bus.bus import open_bus
    from ai2text.cli.context import open_platform

    with open_platform() as platform:
        bus = open_bus(platform.settings, platform.db)
        try:
            entry = platform.registry.adopt_bootstrap(bus)
        finally:
            bus.close()
        print(json.dumps(entry.to_json(), ensure_ascii=False))
    return 0


def run_gate(args: argparse.Namespace) -> int:
    from ai2text.bus.bus import open_bus
    from ai2text.cli.context import open_platform
    from ai2text.data.manifest import read_manifest
    from ai2text.registry.promotion import run_gate as gate

    rows = read_manifest(args.manifest)
    with open_platform() as platform:
        bus = open_bus(platform.settings, platform.db)
        try:
            decision = gate(
                platform.registry,
                args.version,
                rows,
                platform.settings.promotion,
                actor=_actor(),
                bus=bus,
            )
        finally:
            bus.close()
        print(json.dumps(decision.to_json(), ensure_ascii=False))
    return 0

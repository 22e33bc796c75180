"""``ai2text pipeline``: the ingestion side of the pipeline on this machine (the hot folder now)."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("pipeline", help="ingestion: the hot folder")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    watch = actions.add_parser(
        "watch",
        help="ingest audio dropped into a folder; move it to processed/ or failed/ (with a reason)",
        epilog="example: ai2text pipeline watch ~/inbox --glob '*.wav' --glob '*.mp3'",
    )
    watch.add_argument("folder", type=Path)
    watch.add_argument(
        "--glob", action="append", help="file patterns (default: wav mp3 m4a flac ogg)"
    )
    watch.add_argument(
        "--stable-s", type=float, default=2.0, help="unchanged this long to be taken"
    )
    watch.add_argument("--poll-s", type=float, default=1.0, help="seconds between passes")
    watch.add_argument("--once", action="store_true", help="take what is there now, then exit")
    watch.set_defaults(run=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    from ai2text.bus.bus import open_bus
    from ai2text.cli.context import open_platform
    from ai2text.errors import InputError
    from ai2text.pipeline.hot_folder import DEFAULT_GLOBS, HotFolder
    from ai2text.pipeline.ingest import Ingested, ingest_audio
    from ai2text.store.blobs import open_blob_store

    if args.stable_s < 0 or args.poll_s <= 0:
        raise InputError("--stable-s must not be negative and --poll-s must be positive")
    with open_platform() as platform:
        settings, db = platform.settings, platform.db
        blobs = open_blob_store(settings)
        bus = open_bus(settings, db)

        def ingest(data: bytes, name: str) -> Ingested:
            return ingest_audio(db, blobs, bus, data, audio=settings.audio, source="hot_folder",
                                actor="system:hot-folder", filename=name)  # fmt: skip

        folder = HotFolder(
            args.folder, ingest, globs=tuple(args.glob or DEFAULT_GLOBS),
            stable_s=args.stable_s, max_bytes=settings.audio.max_input_bytes,
        )  # fmt: skip
        try:
            passes = 0
            while True:
                for outcome in folder.poll():
                    print(json.dumps(asdict(outcome), ensure_ascii=False), flush=True)
                passes += 1
                if args.once and passes > 1:
                    return 0
                time.sleep(args.stable_s if args.once else args.poll_s)
        except KeyboardInterrupt:
            return 0
        finally:
            bus.close()

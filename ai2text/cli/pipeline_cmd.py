"""``ai2text pipeline``: intake (the hot folder, the S3 inbox), the whole pipeline in one process,
and its status."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from ai2text.cli.context import Platform
    from ai2text.pipeline.intake import Ingest, Outcome


class Source(Protocol):
    def poll(self) -> list[Outcome]: ...


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "pipeline", help="intake, the stages and the training loop, and their status"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    watch = actions.add_parser(
        "watch",
        help="ingest audio dropped into a folder; move it to processed/ or failed/ (with a reason)",
        epilog="example: ai2text pipeline watch ~/inbox --glob '*.wav' --glob '*.mp3'",
    )
    watch.add_argument("folder", type=Path)
    _poller_arguments(watch, "file", poll_s=1.0)
    watch.set_defaults(run=run_watch)
    inbox = actions.add_parser(
        "inbox",
        help="ingest objects put under an S3 prefix (AI2TEXT_S3__* endpoint and credentials); "
        "any number of pollers may run",
        epilog="example: ai2text pipeline inbox --bucket uploads --prefix inbox/",
    )
    inbox.add_argument("--bucket", required=True)
    inbox.add_argument("--prefix", default="inbox/")
    _poller_arguments(inbox, "key", poll_s=5.0)
    inbox.set_defaults(run=run_inbox)
    run = actions.add_parser(
        "run",
        help="the pipeline in one process (in-process Transcriber and embedder): hot folder, "
        "transcribe, post-process, index, datasets, training loop; Ctrl-C stops",
        epilog="example: AI2TEXT_PIPELINE__HOT_FOLDER=~/inbox ai2text pipeline run",
    )
    run.add_argument("--no-training", action="store_true", help="stages only, no training loop")
    run.set_defaults(run=run_pipeline)
    status = actions.add_parser(
        "status",
        help="per-stage queue, in flight, processed, dead letters and lag; collected hours; "
        "recent training runs (JSON)",
        epilog="example: ai2text pipeline status",
    )
    status.set_defaults(run=run_status)


def _poller_arguments(parser: argparse.ArgumentParser, entry: str, poll_s: float) -> None:
    parser.add_argument(
        "--glob", action="append", help=f"{entry} patterns (default: wav mp3 m4a flac ogg)"
    )
    parser.add_argument(
        "--stable-s", type=float, default=2.0, help="unchanged this long to be taken"
    )
    parser.add_argument("--poll-s", type=float, default=poll_s, help="seconds between passes")
    parser.add_argument("--once", action="store_true", help="take what is there now, then exit")


def run_watch(args: argparse.Namespace) -> int:
    from ai2text.pipeline.hot_folder import HotFolder
    from ai2text.pipeline.intake import DEFAULT_GLOBS

    def make(platform: Platform, ingest: Ingest) -> Source:
        return HotFolder(
            args.folder, ingest, globs=tuple(args.glob or DEFAULT_GLOBS),
            stable_s=args.stable_s, max_bytes=platform.settings.audio.max_input_bytes,
        )  # fmt: skip

    return _run_source(args, "hot_folder", make)


def run_inbox(args: argparse.Namespace) -> int:
    import os
    import socket

    from ai2text.pipeline.intake import DEFAULT_GLOBS
    from ai2text.pipeline.s3_inbox import S3Inbox
    from ai2text.store.blobs import s3_client

    def make(platform: Platform, ingest: Ingest) -> Source:
        return S3Inbox(
            s3_client(platform.settings), args.bucket, platform.db, ingest,
            owner=f"{socket.gethostname()}:{os.getpid()}", prefix=args.prefix,
            globs=tuple(args.glob or DEFAULT_GLOBS), stable_s=args.stable_s,
            max_bytes=platform.settings.audio.max_input_bytes,
        )  # fmt: skip

    return _run_source(args, "s3_inbox", make)


def run_pipeline(args: argparse.Namespace) -> int:
    import logging

    from ai2text.bus.bus import open_bus
    from ai2text.cli.context import open_platform
    from ai2text.pipeline.local import local_engines
    from ai2text.pipeline.runner import Pipeline
    from ai2text.store.vectors import open_vector_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with open_platform() as platform:
        settings, registry = platform.settings, platform.registry
        bus = open_bus(settings, platform.db)
        engines, asr = local_engines(settings, registry)
        pipeline = Pipeline(
            settings, registry, bus, registry.blobs, open_vector_store(settings, platform.db),
            engines, training=not args.no_training,
        )  # fmt: skip
        pipeline.start()
        print(f"pipeline running; hot folder: {settings.hot_folder_dir}; Ctrl-C stops", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
        finally:
            pipeline.stop()
            asr.close()
            bus.close()


def run_status(args: argparse.Namespace) -> int:
    from ai2text.bus.bus import open_bus
    from ai2text.cli.context import open_platform
    from ai2text.pipeline.status import pipeline_status

    with open_platform() as platform:
        bus = open_bus(platform.settings, platform.db)
        try:
            print(json.dumps(pipeline_status(bus), ensure_ascii=False, indent=2))
        finally:
            bus.close()
    return 0


def _run_source(
    args: argparse.Namespace,
    source: Literal["hot_folder", "s3_inbox"],
    make: Callable[[Platform, Ingest], Source],
) -> int:
    """Poll until Ctrl-C (``--once``: two passes ``stable_s`` apart), one JSON line per outcome."""
    from ai2text.bus.bus import open_bus
    from ai2text.cli.context import open_platform
    from ai2text.errors import InputError
    from ai2text.pipeline.intake import intake_ingest
    from ai2text.store.blobs import open_blob_store

    if args.stable_s < 0 or args.poll_s <= 0:
        raise InputError("--stable-s must not be negative and --poll-s must be positive")
    with open_platform() as platform:
        settings, db = platform.settings, platform.db
        blobs = open_blob_store(settings)
        bus = open_bus(settings, db)
        poller = make(platform, intake_ingest(db, blobs, bus, settings.audio, source))
        try:
            passes = 0
            while True:
                for outcome in poller.poll():
                    print(json.dumps(asdict(outcome), ensure_ascii=False), flush=True)
                passes += 1
                if args.once and passes > 1:
                    return 0
                time.sleep(args.stable_s if args.once else args.poll_s)
        except KeyboardInterrupt:
            return 0
        finally:
            bus.close()

"""``ai2text``: the command line of the platform.

Usage examples:
    ai2text doctor --json
    ai2text db migrate
    ai2text bench bus --events 20000

Only argparse and the standard library are imported at start-up, so ``ai2text --help`` answers
at once; each command imports what it needs when it runs. Errors print one line to stderr and
exit 2 when the input was at fault, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ai2text.cli import (
    asr_cmd,
    bench_cmd,
    bus_cmd,
    dataset_cmd,
    db_cmd,
    doctor_cmd,
    models_cmd,
    operator_cmd,
    pipeline_cmd,
    serve_cmd,
    synth_cmd,
    text_cmd,
    train_cmd,
)

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ai2text",
        description="Vietnamese speech recognition platform: ingest, transcribe, search, retrain.",
        epilog="Settings come from AI2TEXT_* environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        doctor_cmd,
        synth_cmd,
        text_cmd,
        asr_cmd,
        train_cmd,
        dataset_cmd,
        pipeline_cmd,
        models_cmd,
        operator_cmd,
        db_cmd,
        bus_cmd,
        bench_cmd,
        serve_cmd,
    ):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command = args.run
    from ai2text.allocator import tune_process
    from ai2text.errors import Ai2TextError, is_client_error

    tune_process()

    try:
        return run(args)
    except Ai2TextError as exc:
        print(f"ai2text: error: {exc.message}", file=sys.stderr)
        return 2 if is_client_error(exc) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``ai2text bench``: measurements side by side with a named peer, as JSON lines."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
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
    asr = kinds.add_parser(
        "asr",
        help="RTFx of our Transcriber vs NeMo's model.transcribe() on the same model and files",
        epilog="example: ai2text bench asr --files 100 --batch-size 16",
    )
    asr.add_argument(
        "--model", help="registry version or .nemo; default: production, else a fresh preset"
    )
    asr.add_argument("--preset", default="tiny", help="preset built when there is no model")
    asr.add_argument("--files", type=_positive, default=100, help="synthetic files of 1-20 s")
    asr.add_argument("--audio-dir", type=Path, help="use these WAV files instead")
    asr.add_argument("--batch-size", type=_positive, default=16)
    asr.add_argument(
        "--repeats", type=_positive, default=3, help="alternating runs; medians compared"
    )
    asr.set_defaults(run=run_asr)
    train = kinds.add_parser(
        "train",
        help="Ray Train loop vs a plain PyTorch loop: samples/s, audio-s/s, padding, memory",
        epilog="example: ai2text bench train --steps 40 --utterances 200",
    )
    train.add_argument("--manifest", type=Path, help="default: synthetic speech of the team corpus")
    train.add_argument("--utterances", type=_positive, default=200)
    train.add_argument("--steps", type=_positive, default=40)
    train.add_argument("--batch-seconds", type=float, default=60.0)
    train.add_argument("--preset", choices=["tiny", "small", "large"], default="tiny")
    train.set_defaults(run=run_train)


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


def run_asr(args: argparse.Namespace) -> int:
    from ai2text.asr.model import build_model, load_model
    from ai2text.bench.asr_bench import bench_asr, build_mixed_set, print_result
    from ai2text.cli.context import open_platform
    from ai2text.errors import InputError, NotFoundError

    with open_platform() as platform, tempfile.TemporaryDirectory(prefix="ai2text-bench-") as tmp:
        try:
            path, label = platform.registry.resolve(args.model)
            model = load_model(path)
        except NotFoundError:
            if args.model is not None:
                raise
            model, label = build_model(args.preset), f"fresh {args.preset} preset (untrained)"
        if args.audio_dir is not None:
            paths = sorted(args.audio_dir.glob("*.wav"))
            if not paths:
                raise InputError(f"no .wav files in {args.audio_dir}")
        else:
            paths = build_mixed_set(Path(tmp), args.files)
        print_result(
            bench_asr(model, label, paths, batch_size=args.batch_size, repeats=args.repeats)
        )
    return 0


def run_train(args: argparse.Namespace) -> int:
    from ai2text.asr.training import TrainConfig
    from ai2text.audio.synth import SynthOptions, synthesize
    from ai2text.bench.train_bench import bench_train
    from ai2text.config import load_settings
    from ai2text.data.manifest import read_manifest
    from ai2text.store.blobs import run_storage
    from ai2text.text.corpus import corpus_sentences

    settings = load_settings()
    config = TrainConfig(
        preset=args.preset,
        max_steps=args.steps,
        batch_seconds=args.batch_seconds,
        warmup_steps=min(10, args.steps),
        log_every=max(1, args.steps // 4),
        checkpoint_every=args.steps,
    )
    with tempfile.TemporaryDirectory(prefix="ai2text-bench-") as tmp:
        if args.manifest is not None:
            manifest = args.manifest
        else:
            sentences = corpus_sentences("train")[: args.utterances]
            manifest = synthesize(
                sentences, Path(tmp), SynthOptions(seed=7), progress=False
            ).manifest
        storage, filesystem = run_storage(settings)
        for line in bench_train(config, read_manifest(manifest), storage, filesystem):
            print(json.dumps(line), flush=True)
    return 0

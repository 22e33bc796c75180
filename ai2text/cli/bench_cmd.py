"""``ai2text bench``: measurements side by side with a named peer, as JSON lines."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ai2text.asr.model import AsrModel


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
    asr.add_argument(
        "--http",
        action="store_true",
        help="post the files to a local platform's /v1/audio/transcriptions instead of NeMo, "
        "beside the in-process Transcriber (the production model)",
    )
    asr.add_argument(
        "--clients", type=_positive, default=16, help="concurrent HTTP clients (with --http)"
    )
    asr.set_defaults(run=run_asr)
    stream = kinds.add_parser(
        "stream",
        help="concurrent real-time WebSocket streams: partial latency, final CER vs offline",
        epilog="example: ai2text bench stream --streams 1 4 8 16",
    )
    stream.add_argument(
        "--streams", type=_positive, nargs="+", default=[1, 4, 8, 16], help="concurrent streams"
    )
    stream.add_argument("--frame-ms", type=_positive, default=100, help="audio per sent frame")
    stream.set_defaults(run=run_stream)
    search = kinds.add_parser(
        "search",
        help="hybrid search p50/p95 latency and recall@10 vs dense-only, pgvector and Qdrant",
        epilog="example: ai2text bench search --sizes 10000,100000 --queries 200",
    )
    search.add_argument(
        "--sizes", type=_positives, default=[10_000, 100_000], help="documents, comma-separated"
    )
    search.add_argument("--queries", type=_positive, default=200, help="labelled queries")
    search.add_argument(
        "--backends",
        type=_backends,
        default=["pgvector", "qdrant"],
        help="pgvector,qdrant (Qdrant in qdrant-client's local mode)",
    )
    search.set_defaults(run=run_search)
    pipeline = kinds.add_parser(
        "pipeline",
        help="hot folder to indexed (single-process pipeline) vs the bare Transcriber, files/s",
        epilog="example: ai2text bench pipeline --files 500",
    )
    pipeline.add_argument("--files", type=_positive, default=500, help="clips of 1-5 s")
    pipeline.set_defaults(run=run_pipeline)
    text = kinds.add_parser(
        "text",
        help="single-core sentences/s of normalize, itn and restore (and restore accuracy)",
        epilog="example: ai2text bench text",
    )
    text.add_argument("--repeats", type=_positive, default=3, help="passes; the best is kept")
    text.set_defaults(run=run_text)
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


def _positives(text: str) -> list[int]:
    return [_positive(part) for part in text.split(",")]


def _backends(text: str) -> list[str]:
    names = text.split(",")
    unknown = sorted(set(names) - {"pgvector", "qdrant"})
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown backend(s) {', '.join(unknown)}")
    return names


def run_bus(args: argparse.Namespace) -> int:
    from ai2text.bench.bus_bench import bench_bus
    from ai2text.config import load_settings

    settings = load_settings()
    for consumers in args.consumers:
        result = bench_bus(settings, events=args.events, consumers=consumers, batch=args.batch)
        print(json.dumps(result.to_json()), flush=True)
    return 0


def run_asr(args: argparse.Namespace) -> int:
    if args.http:
        return run_asr_http(args)
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
            paths = [f.path for f in build_mixed_set(Path(tmp), args.files)]
        print_result(
            bench_asr(model, label, paths, batch_size=args.batch_size, repeats=args.repeats)
        )
    return 0


@contextmanager
def _local_platform(folder: Path) -> Iterator[tuple[str, str, AsrModel, str]]:
    """A local ``ai2text serve`` on a free loopback port with benchmark rate limits, its URL, a
    dev token, and the model it serves loaded in this process: (url, token, model, version)."""
    from ai2text.asr.model import load_model
    from ai2text.auth import issue_token
    from ai2text.bench.serve_process import serve_process
    from ai2text.cli.context import open_platform
    from ai2text.config import load_settings

    token = issue_token(load_settings(), "bench")
    env = {
        **os.environ,
        "AI2TEXT_SERVE__HOST": "127.0.0.1",
        "AI2TEXT_SERVE__RATE_LIMIT_PER_MINUTE": str(10**6),
        "AI2TEXT_SERVE__RATE_LIMIT_PER_ADDRESS_PER_MINUTE": str(10**6),
    }
    with serve_process(env, folder / "serve.log") as server, open_platform() as platform:
        path, version = platform.registry.resolve(None)
        yield server.url, token, load_model(path), version


def run_asr_http(args: argparse.Namespace) -> int:
    from ai2text.bench.asr_bench import build_mixed_set
    from ai2text.bench.http_bench import bench_asr_http, print_result
    from ai2text.errors import InputError

    if args.model is not None:
        raise InputError("--http measures the model the platform serves (production): drop --model")
    with tempfile.TemporaryDirectory(prefix="ai2text-bench-") as tmp:
        if args.audio_dir is not None:
            paths = sorted(args.audio_dir.glob("*.wav"))
            if not paths:
                raise InputError(f"no .wav files in {args.audio_dir}")
        else:
            paths = [f.path for f in build_mixed_set(Path(tmp), args.files)]
        with _local_platform(Path(tmp)) as (url, token, model, version):
            result = bench_asr_http(
                model, version, paths, url, token,
                clients=args.clients, batch_size=args.batch_size, repeats=args.repeats,
            )  # fmt: skip
        print_result(result)
    return 0


def run_stream(args: argparse.Namespace) -> int:
    from ai2text.bench.asr_bench import build_mixed_set
    from ai2text.bench.stream_bench import bench_stream

    with tempfile.TemporaryDirectory(prefix="ai2text-bench-") as tmp:
        files = build_mixed_set(Path(tmp), max(args.streams), seed=1, gap_s=0.8, min_s=6.0,
                                max_s=15.0)  # fmt: skip
        with _local_platform(Path(tmp)) as (url, token, model, version):
            lines = bench_stream(
                model, version, files, url, token,
                streams=args.streams, frame_s=args.frame_ms / 1000,
            )  # fmt: skip
        for line in lines:
            print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


def run_search(args: argparse.Namespace) -> int:
    from ai2text.bench.search_bench import bench_search
    from ai2text.config import load_settings

    lines = bench_search(
        load_settings(), sizes=args.sizes, queries=args.queries, backends=args.backends
    )
    for line in lines:
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


def run_pipeline(args: argparse.Namespace) -> int:
    from ai2text.bench.pipeline_bench import bench_pipeline
    from ai2text.config import load_settings

    for line in bench_pipeline(load_settings(), args.files):
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


def run_text(args: argparse.Namespace) -> int:
    from ai2text.bench.text_bench import bench_text
    from ai2text.config import load_settings

    for line in bench_text(load_settings().home / "cache", repeats=args.repeats):
        print(json.dumps(line, ensure_ascii=False), flush=True)
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

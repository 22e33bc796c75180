"""``ai2text train``: a Ray Train run recorded in ``training_runs`` and ``epoch_metrics``."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "train",
        help="train (or fine-tune) a FastConformer CTC model with Ray Train",
        description="Runs the same name again after an interruption to resume from the last "
        "checkpoint; the name defaults to a hash of the manifests and settings.",
        epilog="example: ai2text train --manifest train.jsonl --val-manifest val.jsonl "
        "--preset tiny --max-steps 2000 --workers 2 --out runs/tiny",
    )
    parser.add_argument("--manifest", type=Path, help="training manifest (or --dataset)")
    parser.add_argument("--val-manifest", type=Path, help="validation manifest (or --dataset)")
    parser.add_argument(
        "--dataset", help="a built dataset's hash: its train and val splits (ai2text dataset build)"
    )
    parser.add_argument(
        "--from-shards",
        action="store_true",
        help="with --dataset: read the training split's WebDataset shards (audio inside) "
        "instead of its manifest and audio files",
    )
    parser.add_argument("--preset", choices=["tiny", "small", "large"], default="tiny")
    parser.add_argument("--base", help="fine-tune from this registry version or .nemo")
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--cpus-per-worker", type=int, help="default: this machine's cores shared by the workers"
    )
    parser.add_argument(
        "--gpus-per-worker", type=int, help="default: 1 when this machine has CUDA, else 0"
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="also put the final model and the report at runs/<run name>/ in the blob store "
        "(model.nemo, result.json), where the Kubernetes operator evaluates it",
    )
    parser.add_argument("--out", type=Path, default=Path("runs"))
    parser.add_argument("--run-name")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32")
    parser.add_argument("--grad-accumulation", type=int, default=1)
    parser.add_argument("--batch-seconds", type=float, default=90.0)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup-steps", type=int, default=400)
    parser.add_argument("--checkpoint-every", type=int, default=200)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--no-speed-perturb", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ai2text.asr.training import TrainConfig
    from ai2text.cli.context import open_platform
    from ai2text.data.manifest import ManifestRow, read_manifest
    from ai2text.errors import InputError
    from ai2text.store.blobs import arrow_locations, run_key, run_storage
    from ai2text.store.runs import finish_run, record_epochs, start_run
    from training.train import ShardSource, run_training

    if args.workers < 1:
        raise InputError("--workers must be positive")
    if args.cpus_per_worker is not None and args.cpus_per_worker < 1:
        raise InputError("--cpus-per-worker must be positive")
    if args.gpus_per_worker is not None and args.gpus_per_worker < 0:
        raise InputError("--gpus-per-worker must not be negative")
    try:
        config = TrainConfig(
            preset=args.preset,
            max_steps=args.max_steps,
            batch_seconds=args.batch_seconds,
            grad_accumulation=args.grad_accumulation,
            lr=args.lr,
            warmup_steps=args.warmup_steps,
            precision=args.precision,
            speed_perturb=None if args.no_speed_perturb else (0.9, 1.1),
            seed=args.seed,
            checkpoint_every=args.checkpoint_every,
            log_every=args.log_every,
        )
    except ValidationError as exc:
        raise InputError(
            f"invalid training settings: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
        ) from exc
    if (args.dataset is None) == (args.manifest is None or args.val_manifest is None):
        raise InputError("give --manifest and --val-manifest, or --dataset")
    if args.from_shards and args.dataset is None:
        raise InputError("--from-shards needs --dataset")
    with open_platform() as platform:
        train: list[ManifestRow] | ShardSource
        if args.dataset is not None:
            from ai2text.data.builder import local_rows, shard_keys

            cache = platform.settings.home / "cache" / "datasets"
            blobs = platform.registry.blobs
            if args.from_shards:
                paths, shard_filesystem = arrow_locations(
                    platform.settings, shard_keys(blobs, args.dataset, "train")
                )
                train = ShardSource(paths, shard_filesystem)
            else:
                train = local_rows(blobs, args.dataset, "train", cache)
            val_rows = local_rows(blobs, args.dataset, "val", cache)
            sources = [args.dataset.encode()]
        else:
            train = read_manifest(args.manifest)
            val_rows = read_manifest(args.val_manifest)
            sources = [args.manifest.read_bytes(), args.val_manifest.read_bytes()]
        if not train or not val_rows:
            raise InputError("the training and validation sets must not be empty")
        storage, filesystem = run_storage(platform.settings)
        base_path, base_version = (None, None)
        if args.base:
            base_path, base_version = platform.registry.resolve(args.base)
        digest = hashlib.sha256()
        for part in (*sources, config.model_dump_json().encode(), str(base_version).encode()):
            digest.update(part)
        name = args.run_name or f"train-{args.preset}-{digest.hexdigest()[:12]}"
        dataset_uri = f"datasets/{args.dataset}" if args.dataset else str(args.manifest)
        # a .nemo file as base is no registry version: the run row names registry bases only
        registered = base_version if base_version and platform.registry.find(base_version) else None
        run_id = start_run(platform.db, name, config, registered, dataset_uri, base=args.base)
        try:
            report = run_training(
                config,
                train,
                val_rows,
                workers=args.workers,
                storage=storage,
                storage_filesystem=filesystem,
                run_name=name,
                out_dir=args.out,
                base=base_path,
                cpus_per_worker=args.cpus_per_worker,
                gpus_per_worker=args.gpus_per_worker,
            )
        except BaseException as exc:
            finish_run(platform.db, run_id, error=f"{type(exc).__name__}: {exc}")
            raise
        record_epochs(platform.db, run_id, report.history, report.val_cer, report.val_wer)
        finish_run(platform.db, run_id, metrics=report.to_json())
        if args.publish:
            blobs = platform.registry.blobs
            # each lands atomically: the operator takes model.nemo once it exists; the report
            # (the JSON printed below) stays beside it for people to read
            blobs.put_file(run_key(name, "model.nemo"), report.checkpoint)
            blobs.put_bytes(run_key(name, "result.json"), json.dumps(report.to_json()).encode())
    print(json.dumps(report.to_json(), ensure_ascii=False))
    return 0

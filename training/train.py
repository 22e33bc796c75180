"""``ai2text train`` on Ray Train: a TorchTrainer over the shared training core.

Each worker builds the model from a preset (or loads a base version for fine-tuning), takes its
part of the training data from Ray Data (manifest rows whose audio files it reads, or WebDataset
shards that carry the audio; members other than ``.wav`` and ``.json`` are never read, and nothing
is unpickled), and trains on length-packed batches; gradients are
averaged by DDP (gloo on CPU). Every ``log_every`` steps all workers report; rank 0 attaches a
checkpoint every ``checkpoint_every`` steps and at the end (with the ``.nemo``). Checkpoints go
to ``runs/<run name>`` in the blob store (a folder, or the S3 bucket); starting a run with the
name of one that was killed resumes it from its last checkpoint's step. The driver then
evaluates the final model on the validation manifest.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai2text.asr.training import TrainConfig
from ai2text.data.manifest import ManifestRow


def _worker_loop(config: dict[str, Any]) -> None:
    import ray.train
    import ray.train.torch
    import torch

    from ai2text.allocator import keep_freed_memory
    from ai2text.asr.model import build_model, load_model
    from ai2text.asr.training import (
        BatchLoader,
        Optimization,
        TrainingState,
        load_checkpoint,
        save_checkpoint,
        tokenizer_for,
        train_step,
    )
    from ai2text.data.manifest import parse_row

    keep_freed_memory()
    train = TrainConfig.model_validate(config["train"])
    torch.set_num_threads(int(config["threads"]))
    context = ray.train.get_context()
    rank = context.get_world_rank()
    torch.manual_seed(train.seed)
    model = load_model(Path(config["base"])) if config["base"] else build_model(train.preset)
    core = model.module
    device = ray.train.torch.get_device()
    forward = ray.train.torch.prepare_model(core)
    core.train()
    opt = Optimization.create(core.parameters(), train, device)
    state = TrainingState(0, 0, [])
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            state = load_checkpoint(Path(folder), core, opt)
    records = list(ray.train.get_dataset_shard("train").iter_rows())
    rows = [parse_row(json.loads(record["row"])) for record in records]
    loader = BatchLoader(
        rows,
        tokenizer_for(model),
        model.frame_s,
        train,
        seed=train.seed * 100 + rank,
        encoded=[record.get("audio") for record in records],
    )
    batches = loader.batches(start_epoch=state.epoch)
    losses = list(state.losses)
    step, epoch = state.step, state.epoch
    audio_seconds = samples = 0.0
    padded = real = 0
    # throughput counts the steady state: from a quarter of the run's steps on
    steady_from = state.step + (train.max_steps - state.step) // 4
    started = time.perf_counter()
    while step < train.max_steps:
        micro = []
        for _ in range(train.grad_accumulation):
            epoch, batch = next(batches)
            micro.append(batch)
        core.train()
        loss = train_step(forward, core, micro, opt, train, device)
        step += 1
        if step == steady_from:
            started = time.perf_counter()
            audio_seconds = samples = 0.0
        audio_seconds += sum(b.seconds for b in micro)
        samples += sum(len(b.lengths) for b in micro)
        real += sum(b.real_samples for b in micro)
        padded += sum(b.padded_samples for b in micro)
        lr = float(opt.scheduler.get_last_lr()[0])
        losses.append((step, epoch, round(loss, 5), lr))
        if step % train.log_every == 0 or step == train.max_steps:
            elapsed = time.perf_counter() - started
            metrics = {
                "step": step,
                "epoch": epoch,
                "loss": loss,
                "lr": lr,
                "audio_seconds_per_s": audio_seconds / max(elapsed, 1e-9),
                "samples_per_s": samples / max(elapsed, 1e-9),
                "padding_fraction": 1 - real / padded if padded else 0.0,
                "unalignable": len(loader.report.unalignable),
                "out_of_vocabulary": len(loader.report.out_of_vocabulary),
                "usable_utterances": loader.report.usable,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
            final = step == train.max_steps
            if rank == 0 and (final or step % train.checkpoint_every < train.log_every):
                with tempfile.TemporaryDirectory() as folder:
                    save_checkpoint(Path(folder), core, opt, TrainingState(step, epoch, losses))
                    if final:
                        core.eval()
                        model.save(Path(folder) / "model.nemo")
                    ray.train.report(
                        metrics, checkpoint=ray.train.Checkpoint.from_directory(folder)
                    )
            else:
                ray.train.report(metrics)


@dataclass(frozen=True)
class ShardSource:
    """Training data as WebDataset shards (``{key}.wav`` + ``{key}.json``, as ``ai2text dataset
    build`` writes them): paths and, for S3, the pyarrow filesystem to read them with."""

    paths: list[str]
    filesystem: Any = None


def _shard_record(sample: dict[str, Any]) -> dict[str, Any]:
    from ai2text.errors import InputError

    if not isinstance(sample.get("json"), bytes) or not isinstance(sample.get("wav"), bytes):
        raise InputError(f"shard sample {sample.get('__key__')!r} needs a .wav and a .json member")
    return {"row": sample["json"].decode("utf-8"), "audio": sample["wav"]}


def _training_dataset(train: list[ManifestRow] | ShardSource) -> Any:
    """Ray Data records ``{"row": manifest JSON, "audio": file bytes (shards only)}``."""
    import ray.data

    if isinstance(train, ShardSource):
        shards = ray.data.read_webdataset(
            train.paths, filesystem=train.filesystem, decoder=None, suffixes=["wav", "json"]
        )
        # read before the workers start: they take every core, which would leave Ray Data's
        # read tasks none to run on (the run would wait forever)
        return shards.map(_shard_record).materialize()
    return ray.data.from_items([{"row": json.dumps(row.to_json())} for row in train])


@dataclass(frozen=True)
class TrainReport:
    run_name: str
    steps: int
    train_loss_first: float
    train_loss_last: float
    val_cer: float
    val_wer: float
    checkpoint: Path
    history: list[tuple[int, int, float, float]]
    metrics: dict[str, Any]
    wall_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "run_name": self.run_name,
            "steps": self.steps,
            "train_loss_first": round(self.train_loss_first, 4),
            "train_loss_last": round(self.train_loss_last, 4),
            "val_cer": round(self.val_cer, 4),
            "val_wer": round(self.val_wer, 4),
            "checkpoint": str(self.checkpoint),
            "wall_s": round(self.wall_s, 1),
            **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.metrics.items()},
        }


def run_training(
    config: TrainConfig,
    train: list[ManifestRow] | ShardSource,
    val_rows: list[ManifestRow],
    *,
    workers: int,
    storage: str,
    run_name: str,
    out_dir: Path,
    base: Path | None = None,
    cpus_per_worker: int | None = None,
    gpus_per_worker: int | None = None,
    storage_filesystem: Any = None,
) -> TrainReport:
    """Train with Ray on this machine (or the cluster Ray is connected to) and evaluate.

    Each worker gets ``cpus_per_worker`` cores (default: this machine's cores shared evenly) and
    as many torch threads; Ray would otherwise hold a one-CPU worker to one thread. Workers get
    ``gpus_per_worker`` GPUs (default: one when this machine has CUDA; on a Ray cluster whose
    driver runs on a CPU-only head, give it).
    """
    import ray
    import torch
    from ray.train import CheckpointConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from ai2text.allocator import training_process_env
    from ai2text.asr.model import load_model
    from ai2text.eval.evaluate import evaluate_model

    started = time.perf_counter()
    gpus = (1 if torch.cuda.is_available() else 0) if gpus_per_worker is None else gpus_per_worker
    cpus = cpus_per_worker or max(1, (os.cpu_count() or 1) // workers)
    if not ray.is_initialized():
        ray.init(
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            runtime_env={"env_vars": training_process_env()},
        )
    trainer = TorchTrainer(
        _worker_loop,
        train_loop_config={
            "train": json.loads(config.model_dump_json()),
            "base": str(base) if base else None,
            "threads": cpus,
        },
        scaling_config=ScalingConfig(
            num_workers=workers,
            use_gpu=gpus > 0,
            resources_per_worker={"CPU": cpus, **({"GPU": gpus} if gpus else {})},
        ),
        run_config=RunConfig(
            name=run_name,
            storage_path=storage,
            storage_filesystem=storage_filesystem,
            checkpoint_config=CheckpointConfig(num_to_keep=2),
        ),
        datasets={"train": _training_dataset(train)},
    )
    result = trainer.fit()
    if result.checkpoint is None:
        raise RuntimeError(f"training run {run_name} ended without a checkpoint")
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "model.nemo"
    with result.checkpoint.as_directory() as folder:
        final.write_bytes((Path(folder) / "model.nemo").read_bytes())
        history = json.loads((Path(folder) / "progress.json").read_text())["losses"]
    score = evaluate_model(load_model(final), val_rows)
    metrics = dict(result.metrics or {})
    return TrainReport(
        run_name=run_name,
        steps=int(metrics.get("step", config.max_steps)),
        train_loss_first=float(history[0][2]),
        train_loss_last=float(history[-1][2]),
        val_cer=score.cer,
        val_wer=score.wer,
        checkpoint=final,
        history=[tuple(h) for h in history],
        metrics={
            k: metrics[k]
            for k in (
                "audio_seconds_per_s",
                "samples_per_s",
                "padding_fraction",
                "unalignable",
                "out_of_vocabulary",
                "usable_utterances",
                "peak_rss_mb",
            )
            if k in metrics
        },
        wall_s=time.perf_counter() - started,
    )

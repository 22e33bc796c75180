"""Training pieces every driver shares (Ray Train in ``training/``, the plain loop that
``bench train`` compares it with): the config, length-packed batches with speed perturbation,
mixed precision, gradient accumulation, warmup, and checkpoints that resume exactly.

Checkpoints are plain state dicts read back with ``torch.load(weights_only=True)``.
SpecAugment is the model's own (NeMo applies it in training mode).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from ai2text.asr.alignability import check_utterances
from ai2text.audio.augment import change_speed
from ai2text.audio.batching import pack_by_length
from ai2text.audio.transcoder import SAMPLE_RATE, decode_bytes, load_audio
from ai2text.config import AudioSettings
from ai2text.data.manifest import ManifestRow

Precision = Literal["fp32", "bf16", "fp16"]


class TrainConfig(BaseModel):
    """Everything a training run is told; extra keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: Literal["tiny", "small", "large"] = "tiny"
    max_steps: int = Field(1000, ge=1)
    batch_seconds: float = Field(90.0, gt=0, description="padded audio per micro-batch")
    max_batch_items: int = Field(64, ge=1)
    grad_accumulation: int = Field(1, ge=1)
    lr: float = Field(2e-3, gt=0)
    warmup_steps: int = Field(400, ge=0)
    min_lr_ratio: float = Field(0.05, ge=0, le=1)
    weight_decay: float = Field(1e-3, ge=0)
    precision: Precision = "fp32"
    speed_perturb: tuple[float, float] | None = (0.9, 1.1)
    seed: int = 0
    checkpoint_every: int = Field(200, ge=1)
    log_every: int = Field(10, ge=1)


def lr_factor(step: int, config: TrainConfig) -> float:
    """Linear warmup, then cosine down to ``min_lr_ratio`` at ``max_steps``."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    span = max(1, config.max_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (
        1 + math.cos(math.pi * progress)
    )


@dataclass
class Batch:
    signals: Any  # torch tensors
    lengths: Any
    targets: Any
    target_lengths: Any
    real_samples: int
    padded_samples: int
    seconds: float


class BatchLoader:
    """This worker's rows as shuffled epochs of length-packed batches; audio is cached in memory.

    Audio comes from each row's file, or from ``encoded`` (the file's bytes, as read from a
    WebDataset shard) where given for that row.
    """

    def __init__(
        self,
        rows: Sequence[ManifestRow],
        tokenize: Callable[[str], list[int] | None],
        frame_s: float,
        config: TrainConfig,
        seed: int,
        encoded: Sequence[bytes | None] | None = None,
    ) -> None:
        slowest = config.speed_perturb[1] if config.speed_perturb else 1.0
        # check against the fastest playback the perturbation may produce
        usable, self.report = check_utterances(
            [(r.audio_filepath, r.text, r.duration / slowest) for r in rows], tokenize, frame_s
        )
        self.rows = [rows[i] for i in usable]
        self._encoded = [encoded[i] for i in usable] if encoded is not None else None
        self.tokens = [tokenize(r.text) or [] for r in self.rows]
        self.config = config
        self.seed = seed
        self._audio: dict[int, npt.NDArray[np.float32]] = {}
        self._settings = AudioSettings()

    def _samples(self, index: int) -> npt.NDArray[np.float32]:
        cached = self._audio.get(index)
        if cached is None:
            data = self._encoded[index] if self._encoded is not None else None
            if data is not None:
                cached = decode_bytes(data, self._settings, filename="shard.wav").samples
            else:
                cached = load_audio(Path(self.rows[index].audio_filepath), self._settings).samples
            self._audio[index] = cached
        return cached

    def epoch(self, number: int) -> list[list[int]]:
        lengths = [max(1, int(r.duration * SAMPLE_RATE)) for r in self.rows]
        budget = int(self.config.batch_seconds * SAMPLE_RATE)
        batches = pack_by_length(lengths, budget, self.config.max_batch_items)
        order = np.random.default_rng([self.seed, number, 1]).permutation(len(batches))
        return [batches[i] for i in order]

    def batches(self, start_epoch: int = 0) -> Iterator[tuple[int, Batch]]:
        """(epoch, batch) forever."""
        import torch

        epoch = start_epoch
        while True:
            rng = np.random.default_rng([self.seed, epoch])
            for group in self.epoch(epoch):
                # one speed per batch: per-utterance speeds would undo the length packing
                speed = (
                    float(rng.uniform(*self.config.speed_perturb))
                    if self.config.speed_perturb is not None
                    else 1.0
                )
                audios = [change_speed(self._samples(index), speed) for index in group]
                longest = max(a.size for a in audios)
                signals = torch.zeros(len(audios), longest)
                for i, samples in enumerate(audios):
                    signals[i, : samples.size] = torch.from_numpy(samples)
                tokens = [self.tokens[i] for i in group]
                targets = torch.zeros(len(tokens), max(len(t) for t in tokens), dtype=torch.long)
                for i, row in enumerate(tokens):
                    targets[i, : len(row)] = torch.tensor(row)
                real = sum(a.size for a in audios)
                yield (
                    epoch,
                    Batch(
                        signals=signals,
                        lengths=torch.tensor([a.size for a in audios]),
                        targets=targets,
                        target_lengths=torch.tensor([len(t) for t in tokens]),
                        real_samples=real,
                        padded_samples=longest * len(audios),
                        seconds=real / SAMPLE_RATE,
                    ),
                )
            epoch += 1


def autocast(precision: Precision, device: Any) -> contextlib.AbstractContextManager[Any]:
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


@dataclass
class Optimization:
    optimizer: Any
    scheduler: Any
    scaler: Any  # a GradScaler for fp16, else None

    @classmethod
    def create(cls, parameters: Any, config: TrainConfig, device: Any) -> Optimization:
        import torch

        optimizer = torch.optim.AdamW(
            parameters, lr=config.lr, betas=(0.9, 0.98), weight_decay=config.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, config))
        scaler = torch.amp.GradScaler(device.type) if config.precision == "fp16" else None
        return cls(optimizer, scheduler, scaler)


def train_step(
    forward: Any,
    core: Any,
    micro_batches: Sequence[Batch],
    opt: Optimization,
    config: TrainConfig,
    device: Any,
) -> float:
    """One optimizer step over ``grad_accumulation`` micro-batches; returns the mean CTC loss.

    ``forward`` is the module to call (DDP-wrapped when distributed); ``core`` the NeMo model.
    """
    import torch

    total = 0.0
    for i, batch in enumerate(micro_batches):
        last = i == len(micro_batches) - 1
        sync = (
            contextlib.nullcontext()
            if last or not hasattr(forward, "no_sync")
            else forward.no_sync()
        )
        with sync:
            with autocast(config.precision, device):
                log_probs, frames, _ = forward(
                    input_signal=batch.signals.to(device),
                    input_signal_length=batch.lengths.to(device),
                )
            loss = core.loss(
                log_probs=log_probs.float(),
                targets=batch.targets.to(device),
                input_lengths=frames,
                target_lengths=batch.target_lengths.to(device),
            ) / len(micro_batches)
            if opt.scaler is not None:
                opt.scaler.scale(loss).backward()
            else:
                loss.backward()
        total += float(loss.detach())
    if opt.scaler is not None:
        opt.scaler.unscale_(opt.optimizer)
    torch.nn.utils.clip_grad_norm_(core.parameters(), 1.0)
    if opt.scaler is not None:
        opt.scaler.step(opt.optimizer)
        opt.scaler.update()
    else:
        opt.optimizer.step()
    opt.optimizer.zero_grad(set_to_none=True)
    opt.scheduler.step()
    return total


@dataclass(frozen=True)
class TrainingState:
    step: int
    epoch: int
    losses: list[tuple[int, int, float, float]]  # (step, epoch, loss, lr)


def save_checkpoint(folder: Path, core: Any, opt: Optimization, state: TrainingState) -> None:
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    torch.save(core.state_dict(), folder / "model_weights.pt")
    torch.save(
        {
            "optimizer": opt.optimizer.state_dict(),
            "scheduler": opt.scheduler.state_dict(),
            "scaler": opt.scaler.state_dict() if opt.scaler is not None else None,
        },
        folder / "trainer_state.pt",
    )
    (folder / "progress.json").write_text(
        json.dumps({"step": state.step, "epoch": state.epoch, "losses": state.losses})
    )


def load_checkpoint(folder: Path, core: Any, opt: Optimization) -> TrainingState:
    import torch

    core.load_state_dict(
        torch.load(folder / "model_weights.pt", map_location="cpu", weights_only=True)
    )
    trainer = torch.load(folder / "trainer_state.pt", map_location="cpu", weights_only=True)
    opt.optimizer.load_state_dict(trainer["optimizer"])
    opt.scheduler.load_state_dict(trainer["scheduler"])
    if opt.scaler is not None and trainer["scaler"] is not None:
        opt.scaler.load_state_dict(trainer["scaler"])
    progress = json.loads((folder / "progress.json").read_text())
    losses = [tuple(x) for x in progress["losses"]]
    return TrainingState(int(progress["step"]), int(progress["epoch"]), losses)


def tokenizer_for(model: Any) -> Callable[[str], list[int] | None]:
    """Text to label ids for a model: characters, or its SentencePiece pieces."""
    from ai2text.asr.alignability import char_tokenizer

    if model.vocabulary.kind == "char":
        return char_tokenizer(model.vocabulary)
    pieces = model.module.tokenizer

    def encode(text: str) -> list[int] | None:
        ids = [int(i) for i in pieces.text_to_ids(text)]
        return ids or None

    return encode

"""``ai2text bench train``: the Ray Train loop beside a plain single-process PyTorch loop.

Same model preset, same manifest rows, same steps, same length-packed batches (the shared
training core); each side times its own loop in its steady state, from a quarter of the steps to
the last, so Ray's cluster and worker start-up (reported apart) and first-epoch disk reads are
not counted. Reports samples/s, audio-seconds/s, the
padding fraction and peak memory (resident set size of the process that trains).
"""

from __future__ import annotations

import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai2text.asr.training import TrainConfig
from ai2text.data.manifest import ManifestRow


@dataclass(frozen=True)
class LoopFigures:
    samples_per_s: float
    audio_seconds_per_s: float
    padding_fraction: float
    peak_rss_mb: float


def plain_loop(config: TrainConfig, rows: list[ManifestRow]) -> LoopFigures:
    """The peer: the same core, one process, no Ray."""
    import torch

    from ai2text.allocator import keep_freed_memory
    from ai2text.asr.model import build_model
    from ai2text.asr.training import BatchLoader, Optimization, tokenizer_for, train_step

    keep_freed_memory()
    torch.manual_seed(config.seed)
    model = build_model(config.preset)
    core = model.module
    device = torch.device("cpu")
    core.train()
    opt = Optimization.create(core.parameters(), config, device)
    loader = BatchLoader(rows, tokenizer_for(model), model.frame_s, config, seed=config.seed * 100)
    batches = loader.batches()
    samples = audio = 0.0
    real = padded = 0
    steady_from = config.max_steps // 4  # the same steady state the Ray loop measures
    started = time.perf_counter()
    for step in range(1, config.max_steps + 1):
        micro = [next(batches)[1] for _ in range(config.grad_accumulation)]
        train_step(core, core, micro, opt, config, device)
        if step == steady_from:
            started = time.perf_counter()
            samples = audio = 0.0
        samples += sum(len(b.lengths) for b in micro)
        audio += sum(b.seconds for b in micro)
        real += sum(b.real_samples for b in micro)
        padded += sum(b.padded_samples for b in micro)
    elapsed = time.perf_counter() - started
    return LoopFigures(
        samples / elapsed,
        audio / elapsed,
        1 - real / padded,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def bench_train(
    config: TrainConfig, rows: list[ManifestRow], storage: str, filesystem: Any = None
) -> list[dict[str, Any]]:
    from training.train import run_training

    plain = plain_loop(config, rows)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ai2text-bench-train-") as out:
        report = run_training(
            config,
            rows,
            rows[:2],
            workers=1,
            storage=storage,
            run_name=f"bench-train-{int(time.time())}",
            out_dir=Path(out),
            storage_filesystem=filesystem,
        )
    total = time.perf_counter() - started
    ray = report.metrics
    peer = "plain single-process PyTorch loop (same model, data, steps, batches)"
    lines = []
    for metric, ours, theirs in (
        ("samples_per_s", ray["samples_per_s"], plain.samples_per_s),
        ("audio_seconds_per_s", ray["audio_seconds_per_s"], plain.audio_seconds_per_s),
    ):
        lines.append(
            {
                "bench": "train",
                "metric": metric,
                "ours": round(ours, 2),
                "peer": peer,
                "peer_value": round(theirs, 2),
                "ratio": round(ours / theirs, 3),
                "workers": 1,
                "steps": config.max_steps,
                "preset": config.preset,
            }
        )
    lines.append(
        {
            "bench": "train",
            "metric": "padding_fraction",
            "ours": round(ray["padding_fraction"], 4),
            "peer_value": round(plain.padding_fraction, 4),
        }
    )
    lines.append(
        {
            "bench": "train",
            "metric": "peak_rss_mb",
            "ours": round(ray["peak_rss_mb"], 1),
            "peer_value": round(plain.peak_rss_mb, 1),
        }
    )
    lines.append({"bench": "train", "metric": "ray_run_wall_s", "ours": round(total, 1)})
    return lines

"""A tiny FastConformer really trained, in a plain loop, on a few synthetic utterances: enough to
emit real words with real timestamps (the bootstrap model comes from the Training issue)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

SENTENCES = [
    "xin chào các bạn",
    "hôm nay trời đẹp quá",
    "tôi đi học",
    "mẹ nấu cơm",
    "cảm ơn anh nhiều",
    "chúng ta đi chợ",
    "em ăn phở bò",
    "trời mưa to",
]


@dataclass(frozen=True)
class TrainedModel:
    path: Path
    manifest: Path
    rows: list[dict[str, object]]
    audios: list[np.ndarray]


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    import torch

    from ai2text.asr.model import build_model
    from ai2text.audio.synth import SynthOptions, synthesize
    from ai2text.audio.wav import read_wav

    folder = tmp_path_factory.mktemp("tiny")
    options = SynthOptions(voices=("vi",), variants=(None,), seed=1)
    report = synthesize(SENTENCES, folder / "data", options, progress=False)
    rows = [json.loads(line) for line in report.manifest.read_text().splitlines()]
    audios = [read_wav(Path(str(r["audio_filepath"])))[0] for r in rows]
    torch.manual_seed(0)
    model = build_model("tiny")
    module = model.module
    index = {c: i for i, c in enumerate(model.vocabulary.labels)}
    signals = torch.zeros(len(audios), max(a.size for a in audios))
    for i, audio in enumerate(audios):
        signals[i, : audio.size] = torch.from_numpy(audio)
    lengths = torch.tensor([a.size for a in audios])
    targets_list = [[index[c] for c in str(r["text"])] for r in rows]
    targets = torch.zeros(len(rows), max(map(len, targets_list)), dtype=torch.long)
    for i, target in enumerate(targets_list):
        targets[i, : len(target)] = torch.tensor(target)
    target_lengths = torch.tensor([len(t) for t in targets_list])
    optimizer = torch.optim.AdamW(module.parameters(), lr=2e-3)
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 30))
    module.train()
    for _ in range(90):
        log_probs, frames, _ = module(input_signal=signals, input_signal_length=lengths)
        loss = module.loss(
            log_probs=log_probs,
            targets=targets,
            input_lengths=frames,
            target_lengths=target_lengths,
        )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
        optimizer.step()
        warmup.step()
    module.eval()
    path = folder / "tiny.nemo"
    model.save(path)
    return TrainedModel(path, report.manifest, rows, audios)

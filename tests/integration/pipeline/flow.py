"""Helpers of the pipeline tests: speakers that land in a given split, synthetic speech files,
and running stage workers until the bus is quiet."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ai2text.bus.worker import Worker
from ai2text.config import SplitPolicy
from ai2text.store.splits import Split, split_for


def speaker_in(split: Split, prefix: str = "spk") -> str:
    """The first ``{prefix}-{n}`` the default split policy assigns to ``split``."""
    n = 0
    while split_for(f"{prefix}-{n}", SplitPolicy()) != split:
        n += 1
    return f"{prefix}-{n}"


def synthesize_files(sentences: Sequence[str], folder: Path, seed: int) -> list[Path]:
    from ai2text.audio.synth import SynthOptions, synthesize

    options = SynthOptions(voices=("vi",), variants=(None,), seed=seed)
    report = synthesize(list(sentences), folder, options, progress=False)
    rows = [json.loads(line) for line in report.manifest.read_text().splitlines()]
    return [Path(str(row["audio_filepath"])) for row in rows]


def drain(workers: Sequence[Worker], max_rounds: int = 50) -> None:
    """Run every worker until none of them finds work."""
    for _ in range(max_rounds):
        if sum(worker.run_once() for worker in workers) == 0:
            return
    raise AssertionError("the stages did not go quiet")

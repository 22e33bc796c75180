"""The bootstrap model on real human speech (../shared): fine-tuned with ``ai2text train --base``
and scored with ``ai2text eval`` before and after, as a user would run it.

VIVOS here is one speaker: fine-tuning on its 50 train utterances and scoring its 10 test ones
measures adaptation to a human voice on unseen sentences. Common Voice's 100 clips from 29
speakers are split by speaker (hash of the speaker id), so the test speakers are never heard in
training. Each test prints one JSON line with the figures the README reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ai2text.asr.bootstrap import bundled_bootstrap
from ai2text.config import Settings
from ai2text.data.manifest import ManifestRow, read_manifest, write_manifest
from ai2text.store.database import Database
from ai2text.store.splits import speaker_bucket
from tests.conftest import SHARED_DATA

SPEECH = SHARED_DATA / "speech"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not SPEECH.is_dir(), reason="needs ../shared/data/speech"),
    pytest.mark.skipif(bundled_bootstrap() is None, reason="needs the bundled bootstrap model"),
]
FINE_TUNE = ["--lr", "5e-4", "--warmup-steps", "20", "--batch-seconds", "40"]


def cli(settings: Settings, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI2TEXT_")}
    env.update(
        AI2TEXT_HOME=str(settings.home),
        AI2TEXT_DATABASE_URL=settings.database_url.get_secret_value(),  # type: ignore[union-attr]
    )
    result = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", *args],
        env=env, capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    body: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return body


def before_and_after(
    settings: Settings, train: Path, test: Path, out: Path, steps: int
) -> dict[str, Any]:
    base = cli(settings, "models", "bootstrap")["version"]
    before = cli(settings, "eval", "--manifest", str(test))
    trained = cli(
        settings, "train", "--base", base, "--manifest", str(train), "--val-manifest", str(test),
        "--max-steps", str(steps), *FINE_TUNE, "--out", str(out),
    )  # fmt: skip
    after = cli(settings, "eval", "--manifest", str(test), "--model", str(out / "model.nemo"))
    assert trained["train_loss_last"] < trained["train_loss_first"]
    assert after["cer"] == pytest.approx(trained["val_cer"], abs=1e-3)
    return {
        "base": base,
        "steps": steps,
        "before": {"wer": before["wer"], "cer": before["cer"]},
        "after": {"wer": after["wer"], "cer": after["cer"]},
    }


def shared_rows(manifest: str) -> list[ManifestRow]:
    return read_manifest(SPEECH / manifest)


def test_vivos_adaptation_to_a_human_voice(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    split: dict[str, list[ManifestRow]] = {"train": [], "test": []}
    for row in shared_rows("manifest.jsonl"):
        split[row.extra["orig_split_in_repo"]].append(row)
    assert (len(split["train"]), len(split["test"])) == (50, 10)
    assert not {r.text for r in split["train"]} & {r.text for r in split["test"]}
    write_manifest(tmp_path / "train.jsonl", split["train"])
    write_manifest(tmp_path / "test.jsonl", split["test"])

    figures = before_and_after(
        settings, tmp_path / "train.jsonl", tmp_path / "test.jsonl", tmp_path / "out", steps=150
    )
    print(json.dumps({"check": "vivos", **figures}))
    assert figures["after"]["cer"] < figures["before"]["cer"]


def test_common_voice_unseen_speakers(settings: Settings, db: Database, tmp_path: Path) -> None:
    rows = shared_rows("manifest_cv_vi_100.jsonl")
    train = [r for r in rows if speaker_bucket(str(r.speaker)) < 75]
    test = [r for r in rows if speaker_bucket(str(r.speaker)) >= 75]
    train_speakers = {r.speaker for r in train}
    test_speakers = {r.speaker for r in test}
    assert train_speakers and test_speakers and not train_speakers & test_speakers
    write_manifest(tmp_path / "train.jsonl", train)
    write_manifest(tmp_path / "test.jsonl", test)

    figures = before_and_after(
        settings, tmp_path / "train.jsonl", tmp_path / "test.jsonl", tmp_path / "out", steps=200
    )
    report = {
        "check": "common_voice",
        "train": {"utterances": len(train), "speakers": len(train_speakers)},
        "test": {"utterances": len(test), "speakers": len(test_speakers)},
        **figures,
    }
    print(json.dumps(report))
    assert figures["after"]["cer"] < figures["before"]["cer"]

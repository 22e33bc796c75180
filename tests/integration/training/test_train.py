"""``ai2text train`` for real: Ray Train, 2 CPU workers, synthetic clips, killed and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from ai2text.audio.synth import SynthOptions, synthesize
from ai2text.config import Settings
from ai2text.store.database import Database

SENTENCES = [
    "xin chào các bạn", "hôm nay trời đẹp quá", "tôi đi học", "mẹ nấu cơm",
    "cảm ơn anh nhiều", "chúng ta đi chợ", "em ăn phở bò", "trời mưa to",
    "bố đọc báo", "chị đi làm", "con mèo ngủ", "nhà tôi ở gần chợ",
]  # fmt: skip
RUN = "test-run"


def train_command(settings: Settings, data: Path, out: Path) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI2TEXT_")}
    env.update(
        AI2TEXT_HOME=str(settings.home),
        AI2TEXT_DATABASE_URL=settings.database_url.get_secret_value(),  # type: ignore[union-attr]
    )
    command = [
        sys.executable, "-m", "ai2text.cli.main", "train",
        "--manifest", str(data / "manifest.jsonl"), "--val-manifest", str(data / "manifest.jsonl"),
        "--workers", "2", "--max-steps", "24", "--batch-seconds", "8", "--warmup-steps", "4",
        "--lr", "3e-3", "--log-every", "2", "--checkpoint-every", "4", "--run-name", RUN,
        "--out", str(out),
    ]  # fmt: skip
    return command, env


def checkpoints(settings: Settings) -> list[Path]:
    return sorted((settings.blob_dir / "runs" / RUN).glob("checkpoint_*/progress.json"))


@pytest.mark.integration
def test_killed_run_resumes_and_finishes(settings: Settings, db: Database, tmp_path: Path) -> None:
    synthesize(
        SENTENCES, tmp_path / "data", SynthOptions(voices=("vi",), variants=(None,)), progress=False
    )
    command, env = train_command(settings, tmp_path / "data", tmp_path / "out")

    doomed = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not checkpoints(settings):
        assert doomed.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.5)
    killed_at = json.loads(checkpoints(settings)[-1].read_text())["step"]
    os.killpg(doomed.pid, signal.SIGKILL)  # the driver, its Ray cluster and workers
    doomed.wait(30)
    assert killed_at < 24

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]
    report = json.loads(finished.stdout)
    assert report["steps"] == 24
    assert report["train_loss_last"] < report["train_loss_first"]
    assert {"train_loss_first", "train_loss_last", "val_cer", "checkpoint"} <= set(report)
    assert Path(report["checkpoint"]).is_file()

    history = json.loads(checkpoints(settings)[-1].read_text())["losses"]
    assert [h[0] for h in history] == list(range(1, 25))  # every step once: resumed, not restarted
    assert len(checkpoints(settings)) >= 1  # checkpoints live under the blob root

    with psycopg.connect(db.url) as conn:
        status = conn.execute(
            "SELECT status, metrics->>'steps' FROM training_runs WHERE name = %s", (RUN,)
        ).fetchone()
        epochs = conn.execute("SELECT count(*), max(step) FROM epoch_metrics").fetchone()
    assert status == ("succeeded", "24")
    assert epochs is not None and epochs[0] >= 1 and epochs[1] == 24


@pytest.mark.integration
def test_checkpoints_go_to_the_s3_bucket(
    settings: Settings, db: Database, tmp_path: Path, s3_endpoint: str
) -> None:
    import boto3

    bucket = "ai2text-train-test"
    boto3.client(
        "s3", endpoint_url=s3_endpoint, aws_access_key_id="testing",
        aws_secret_access_key="testing", region_name="us-east-1",
    ).create_bucket(Bucket=bucket)  # fmt: skip
    synthesize(
        SENTENCES[:6],
        tmp_path / "data",
        SynthOptions(voices=("vi",), variants=(None,)),
        progress=False,
    )
    command, env = train_command(settings, tmp_path / "data", tmp_path / "out")
    command[command.index("--max-steps") + 1] = "4"
    command[command.index("--workers") + 1] = "1"
    env.update(
        AI2TEXT_BLOB_BACKEND="s3",
        AI2TEXT_S3__BUCKET=bucket,
        AI2TEXT_S3__ENDPOINT_URL=s3_endpoint,
        AI2TEXT_S3__ACCESS_KEY_ID="testing",
        AI2TEXT_S3__SECRET_ACCESS_KEY="testing",
    )
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert Path(json.loads(finished.stdout)["checkpoint"]).is_file()
    listed = boto3.client(
        "s3", endpoint_url=s3_endpoint, aws_access_key_id="testing",
        aws_secret_access_key="testing", region_name="us-east-1",
    ).list_objects_v2(Bucket=bucket, Prefix=f"runs/{RUN}/")  # fmt: skip
    keys = [item["Key"] for item in listed.get("Contents", [])]
    assert any(k.endswith("/model.nemo") for k in keys), keys
    assert any(k.endswith("/progress.json") for k in keys)


@pytest.mark.integration
def test_training_reads_the_dataset_shards(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    """A dataset built from the database trains from its WebDataset shards alone: the train
    split's audio files are deleted from blobs first."""
    import hashlib

    from ai2text.data.builder import SelectionPolicy, build
    from ai2text.store.blobs import LocalBlobStore, audio_raw_key
    from ai2text.store.metadata import AudioRecord, insert_audio
    from tests.integration.data.test_builder import speakers_per_split

    speakers = speakers_per_split(1)
    report = synthesize(
        SENTENCES, tmp_path / "data", SynthOptions(voices=("vi",), variants=(None,)), progress=False
    )
    rows = [json.loads(line) for line in report.manifest.read_text().splitlines()]
    blobs = LocalBlobStore(settings.blob_dir)
    train_keys = []
    with db.connection() as conn:
        for i, row in enumerate(rows):
            split = "train" if i < 9 else "val"
            data = Path(row["audio_filepath"]).read_bytes()
            stored = insert_audio(
                conn,
                AudioRecord(
                    sha256=hashlib.sha256(data).hexdigest(), source="upload",
                    duration_s=row["duration"], sample_rate=16000,
                    speaker_id=speakers[split][0],
                ),
                actor="test",
            )  # fmt: skip
            key = audio_raw_key(stored.audio_id)
            blobs.put_bytes(key, data)
            conn.execute("UPDATE audio SET blob_key = %s WHERE id = %s", (key, stored.audio_id))
            conn.execute(
                "INSERT INTO transcripts (audio_id, model_version, status, text, verified)"
                " VALUES (%s, 'human', 'done', %s, true)",
                (stored.audio_id, row["text"]),
            )
            if split == "train":
                train_keys.append(key)
    built = build(db, blobs, SelectionPolicy(shard_size=4))
    assert len(built.shards["train"]) == 3
    for key in train_keys:
        blobs.delete(key)

    command, env = train_command(settings, tmp_path / "data", tmp_path / "out")
    start = command.index("--manifest")
    command[start : start + 4] = ["--dataset", built.dataset_hash, "--from-shards"]
    command[command.index("--workers") + 1] = "1"
    command[command.index("--max-steps") + 1] = "12"
    command[command.index("--run-name") + 1] = "shards"
    # as the operator's RayJob runs it: cores and GPUs given, the model published to blobs
    command += ["--cpus-per-worker", "2", "--gpus-per-worker", "0", "--publish"]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads(finished.stdout)
    assert result["steps"] == 12 and result["usable_utterances"] == 9
    assert result["train_loss_last"] < result["train_loss_first"]
    assert json.loads(blobs.get_bytes("runs/shards/result.json")) == result
    published = blobs.local_path("runs/shards/model.nemo")
    assert published.read_bytes() == Path(result["checkpoint"]).read_bytes()

    command.remove("--from-shards")
    command[command.index("--run-name") + 1] = "files"
    without_shards = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert without_shards.returncode != 0  # the train split's audio files are gone
    assert "No such file or directory" in without_shards.stderr

"""The S3 inbox against moto's S3 server on loopback, over the real ingestion path; two pollers
race for the same objects and each object is taken by exactly one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ai2text.bus.bus import open_bus
from ai2text.config import Settings
from ai2text.pipeline.ingest import Ingested, ingest_audio
from ai2text.pipeline.intake import Outcome
from ai2text.pipeline.s3_inbox import S3Inbox
from ai2text.store.blobs import open_blob_store
from ai2text.store.database import Database
from tests.integration.pipeline.test_hot_folder import Clock, tone

pytestmark = pytest.mark.integration


@pytest.fixture
def bucket(s3_endpoint: str, tmp_path: Path) -> tuple[Any, str]:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    name = f"inbox-{tmp_path.name.lower().replace('_', '-')}"[:60]
    client.create_bucket(Bucket=name)
    return client, name


@pytest.fixture
def make_inbox(bucket: tuple[Any, str], settings: Settings, db: Database) -> Iterator[Any]:
    client, name = bucket
    blobs = open_blob_store(settings)
    bus = open_bus(settings, db)

    def ingest(data: bytes, key: str) -> Ingested:
        return ingest_audio(db, blobs, bus, data, audio=settings.audio, source="s3_inbox",
                            actor="system:s3-inbox", filename=key)  # fmt: skip

    def make(owner: str, clock: Clock) -> S3Inbox:
        return S3Inbox(client, name, db, ingest, owner, stable_s=2.0, max_bytes=1 << 20,
                       clock=clock)  # fmt: skip

    yield make
    bus.close()


def keys(client: Any, bucket: str) -> set[str]:
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"] for item in listed}


def test_objects_are_ingested_moved_and_bad_ones_fail(
    make_inbox: Any, bucket: tuple[Any, str], tmp_path: Path, db: Database
) -> None:
    client, name = bucket
    good = tone(tmp_path / "g.wav", 440).read_bytes()
    client.put_object(Bucket=name, Key="inbox/a/g.wav", Body=good)
    client.put_object(Bucket=name, Key="inbox/copy.wav", Body=good)
    client.put_object(Bucket=name, Key="inbox/text.wav", Body=b"not audio at all")
    client.put_object(Bucket=name, Key="inbox/empty.mp3", Body=b"")
    client.put_object(Bucket=name, Key="inbox/readme.txt", Body=b"left alone")
    clock = Clock()
    inbox = make_inbox("poller-1", clock)
    assert inbox.poll() == []  # seen, not yet stable
    clock.now += 2.0
    outcomes = {o.path: o for o in inbox.poll()}
    assert {p: o.status for p, o in outcomes.items()} == {
        "a/g.wav": "ingested", "copy.wav": "duplicate", "text.wav": "failed", "empty.mp3": "failed",
    }  # fmt: skip
    assert keys(client, name) == {
        "inbox/readme.txt", "inbox/processed/a/g.wav", "inbox/processed/copy.wav",
        "inbox/failed/text.wav", "inbox/failed/text.wav.reason",
        "inbox/failed/empty.mp3", "inbox/failed/empty.mp3.reason",
    }  # fmt: skip
    reason = client.get_object(Bucket=name, Key="inbox/failed/text.wav.reason")["Body"].read()
    assert b"not audio" in reason
    with db.connection() as conn:
        settled = dict(conn.execute("SELECT object_key, settled FROM inbox_claims").fetchall())
    assert settled == {"inbox/a/g.wav": "processed", "inbox/copy.wav": "processed",
                       "inbox/text.wav": "failed", "inbox/empty.mp3": "failed"}  # fmt: skip


def test_two_pollers_never_both_win_an_object(
    make_inbox: Any, bucket: tuple[Any, str], tmp_path: Path, db: Database
) -> None:
    client, name = bucket
    for index in range(12):
        data = tone(tmp_path / f"{index}.wav", 300 + 40 * index, seconds=0.3).read_bytes()
        client.put_object(Bucket=name, Key=f"inbox/{index:02d}.wav", Body=data)
    clock = Clock()
    pollers = [make_inbox("poller-1", clock), make_inbox("poller-2", clock)]
    for poller in pollers:
        poller.poll()
    clock.now += 2.0
    results: dict[str, list[Outcome]] = {}
    start = threading.Barrier(2)

    def run(poller: S3Inbox) -> None:
        start.wait()
        results[poller.owner] = poller.poll()

    threads = [threading.Thread(target=run, args=(p,)) for p in pollers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    taken = [o.path for outcomes in results.values() for o in outcomes]
    assert sorted(taken) == [f"{i:02d}.wav" for i in range(12)]  # each once, by one poller
    assert all(o.status == "ingested" for outcomes in results.values() for o in outcomes)
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM audio").fetchone() == (12,)


def test_an_expired_claim_is_taken_over_and_new_content_under_a_key_is_new(
    make_inbox: Any, bucket: tuple[Any, str], tmp_path: Path, db: Database
) -> None:
    client, name = bucket
    client.put_object(Bucket=name, Key="inbox/x.wav",
                      Body=tone(tmp_path / "x.wav", 500).read_bytes())  # fmt: skip
    with db.connection() as conn:  # a poller that claimed it and died
        conn.execute(
            "INSERT INTO inbox_claims (object_key, etag, owner, claimed_until) "
            "VALUES ('inbox/x.wav', 'old', 'dead', now() - interval '1 second')"
        )
    clock = Clock()
    inbox = make_inbox("poller-1", clock)
    inbox.poll()
    clock.now += 2.0
    assert [o.status for o in inbox.poll()] == ["ingested"]
    client.put_object(Bucket=name, Key="inbox/x.wav",
                      Body=tone(tmp_path / "y.wav", 600).read_bytes())  # fmt: skip
    inbox.poll()
    clock.now += 2.0
    assert [o.status for o in inbox.poll()] == ["ingested"]
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM audio").fetchone() == (2,)


def test_a_claim_is_won_once(make_inbox: Any, bucket: tuple[Any, str]) -> None:
    first, second = make_inbox("poller-1", Clock()), make_inbox("poller-2", Clock())
    assert first._claim("inbox/k.wav", '"e1"') and not second._claim("inbox/k.wav", '"e1"')
    assert not first._claim("inbox/k.wav", '"e1"')  # a live claim is not taken again


def test_cli_inbox_once(
    bucket: tuple[Any, str], s3_endpoint: str, tmp_path: Path, db_url: str
) -> None:
    client, name = bucket
    client.put_object(
        Bucket=name, Key="drop/z.wav", Body=tone(tmp_path / "z.wav", 700).read_bytes()
    )
    env = {
        **os.environ, "AI2TEXT_HOME": str(tmp_path / "home"), "AI2TEXT_DATABASE_URL": db_url,
        "AI2TEXT_S3__ENDPOINT_URL": s3_endpoint, "AI2TEXT_S3__ACCESS_KEY_ID": "testing",
        "AI2TEXT_S3__SECRET_ACCESS_KEY": "testing",
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "pipeline", "inbox", "--bucket", name,
         "--prefix", "drop", "--once", "--stable-s", "0.2"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == ["ingested"]
    assert keys(client, name) == {"drop/processed/z.wav"}

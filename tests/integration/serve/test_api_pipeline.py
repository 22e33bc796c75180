"""The pipeline inside ``ai2text serve``: a file dropped in the hot folder is transcribed through
the ASR deployment, indexed, found by ``GET /v1/search``, played with byte ranges from
``GET /v1/audio/{id}`` and removed by ``DELETE /v1/recordings/{id}``; ``POST /v1/train/now``
reaches the training loop; ``/metrics`` and ``ai2text pipeline status`` show the stages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.integration.serve.conftest import Platform
from tests.integration.serve.test_http import auth, error_of

pytestmark = pytest.mark.integration


def _search(platform: Platform, q: str, **params: Any) -> httpx.Response:
    return httpx.get(
        f"{platform.url}/v1/search",
        params={"q": q, **params},
        headers=auth(platform, scope="read"),
        timeout=30,
    )


def _wait_indexed(platform: Platform, filename: str, timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(platform.env["AI2TEXT_DATABASE_URL"]) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT d.audio_id FROM search_documents d JOIN audio a ON a.id = d.audio_id"
                " WHERE a.original_filename = %s",
                (filename,),
            ).fetchone()
            if row is not None:
                return str(row[0])
            time.sleep(0.3)
    raise AssertionError(f"{filename} was not indexed within {timeout_s} s")


def test_a_dropped_file_is_searchable_playable_and_deletable(platform: Platform) -> None:
    inbox = Path(platform.env["AI2TEXT_HOME"]) / "inbox" / "spk-serve"
    inbox.mkdir(parents=True, exist_ok=True)
    source = platform.wavs[1]  # [2] is ingested by test_http
    shutil.copy(source, inbox / "dropped.wav")
    audio_id = _wait_indexed(platform, "spk-serve/dropped.wav")
    with psycopg.connect(platform.env["AI2TEXT_DATABASE_URL"]) as conn:
        text = conn.execute(
            "SELECT text FROM search_documents WHERE audio_id = %s", (audio_id,)
        ).fetchone()
    assert text is not None
    words = text[0].split()
    found = _search(platform, " ".join(words[:2]), limit=5)
    assert found.status_code == 200, found.text
    results = found.json()["results"]
    assert results[0]["audio_id"] == audio_id
    assert {"audio_id", "score", "snippet", "start", "end"} <= set(results[0])
    assert 0 <= results[0]["start"] < results[0]["end"]
    filtered = _search(platform, " ".join(words[:2]), speaker="nobody")
    assert filtered.json() == {"results": []}

    url = f"{platform.url}/v1/audio/{audio_id}"
    headers = auth(platform, scope="read")
    whole = httpx.get(url, headers=headers)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert whole.content[:4] == b"RIFF" and whole.headers["content-type"] == "audio/wav"
    part = httpx.get(url, headers={**headers, "Range": "bytes=44-1043"})
    assert part.status_code == 206 and part.content == whole.content[44:1044]
    assert part.headers["content-range"] == f"bytes 44-1043/{len(whole.content)}"
    outside = httpx.get(url, headers={**headers, "Range": f"bytes={len(whole.content)}-"})
    assert outside.status_code == 416 and error_of(outside)["code"] == "range_not_satisfiable"

    delete_url = f"{platform.url}/v1/recordings/{audio_id}"
    assert httpx.delete(delete_url, headers=auth(platform, scope="read write")).status_code == 403
    deleted = httpx.delete(delete_url, headers=auth(platform, sub="admin-1", scope="admin"))
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert httpx.get(url, headers=headers).status_code == 404
    assert (
        httpx.get(f"{platform.url}/v1/transcripts/{audio_id}", headers=headers).status_code == 404
    )
    again = httpx.delete(delete_url, headers=auth(platform, scope="admin"))
    assert again.status_code == 404 and error_of(again)["code"] == "not_found"
    after = _search(platform, " ".join(words[:2]), limit=100).json()["results"]
    assert audio_id not in {r["audio_id"] for r in after}
    assert (inbox.parent / "processed" / "spk-serve" / "dropped.wav").is_file()


def test_bad_search_requests_get_4xx(platform: Platform) -> None:
    for params in ({"q": ""}, {"q": "x", "limit": 0}, {"q": "x", "limit": 1000},
                   {"q": "x", "mode": "fuzzy"}, {"q": "x", "since": "yesterday"},
                   {"q": "x", "since": "2026-01-01T00:00:00"}):  # fmt: skip
        response = httpx.get(
            f"{platform.url}/v1/search", params=params, headers=auth(platform, scope="read")
        )
        assert 400 <= response.status_code < 500, (params, response.text)
        error_of(response)
    assert httpx.get(f"{platform.url}/v1/search", params={"q": "x"}).status_code == 401
    unknown = httpx.get(f"{platform.url}/v1/audio/{uuid.uuid4()}", headers=auth(platform))
    assert unknown.status_code == 404


def test_train_now_reaches_the_training_loop(platform: Platform) -> None:
    denied = httpx.post(f"{platform.url}/v1/train/now", headers=auth(platform, scope="write"))
    assert denied.status_code == 403
    asked = httpx.post(f"{platform.url}/v1/train/now", headers=auth(platform, sub="trainer-1"))
    assert asked.status_code == 202 and asked.json()["trigger"] == "manual"
    deadline = time.monotonic() + 60
    with psycopg.connect(platform.env["AI2TEXT_DATABASE_URL"]) as conn:
        while True:
            decided = conn.execute(
                "SELECT actor, detail FROM audit_log WHERE action = 'training.request'"
                " AND actor = 'trainer-1'"
            ).fetchone()
            if decided is not None or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    assert decided is not None, "the trainer did not decide on the request"
    assert decided[1]["trigger"] == "manual" and decided[1]["reason"]


def test_stages_show_in_metrics_and_status(platform: Platform) -> None:
    metrics = httpx.get(f"{platform.url}/metrics").text
    for stage in ("transcribe", "postprocess", "index", "datasets", "trainer"):
        assert f'ai2text_pipeline_processed{{stage="{stage}"}}' in metrics
        assert f'ai2text_pipeline_lag_seconds{{stage="{stage}"}}' in metrics
    status = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "pipeline", "status"],
        env=platform.env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    body = json.loads(status.stdout)
    assert body["stages"]["transcribe"]["processed"] >= 1
    assert set(body) >= {"stages", "recordings", "indexed", "datasets", "training_runs"}

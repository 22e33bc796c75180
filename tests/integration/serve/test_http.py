"""Real HTTP on loopback against a running Serve app (``ai2text serve`` in a subprocess).

The last tests spend the rate limits; keep them last.
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import psycopg
import pytest

from ai2text.eval.metrics import score_utterance
from ai2text.text.rewrite import Correction, apply_corrections
from tests.conftest import BOOTSTRAP
from tests.integration.conftest import TrainedModel
from tests.integration.serve.conftest import MAX_UPLOAD_BYTES, PER_ADDRESS, PER_PRINCIPAL, Platform

pytestmark = pytest.mark.integration


def auth(platform: Platform, **claims: object) -> dict[str, str]:
    sub = str(claims.pop("sub", f"t-{uuid.uuid4().hex[:8]}"))
    return {"Authorization": f"Bearer {platform.token(sub, **claims)}"}  # type: ignore[arg-type]


def post_audio(platform: Platform, path: Path, route: str = "/v1/audio/transcriptions",
               headers: dict[str, str] | None = None, **form: str) -> httpx.Response:  # fmt: skip
    with open(path, "rb") as handle:
        return httpx.post(
            f"{platform.url}{route}",
            headers=headers if headers is not None else auth(platform),
            files={"file": (path.name, handle, "audio/wav")},
            data=form,
            timeout=60,
        )


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return dict(body["error"])


def test_openai_client_transcribes(platform: Platform) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{platform.url}/v1", api_key=platform.token("openai-client"))
    for path, text in zip(platform.wavs, platform.texts, strict=True):
        with open(path, "rb") as handle:
            result = client.audio.transcriptions.create(model="whisper-1", file=handle)
        assert score_utterance(text, result.text).cer <= 0.3, (text, result.text)
    with open(platform.wavs[0], "rb") as handle:
        verbose = client.audio.transcriptions.create(
            model="whisper-1", file=handle, response_format="verbose_json",
            timestamp_granularities=["word", "segment"], language="vi",
        )  # fmt: skip
    assert verbose.words and verbose.segments
    assert [w.word for w in verbose.words] == verbose.text.split()
    assert all(0 <= w.start < w.end <= verbose.duration + 0.05 for w in verbose.words)
    with open(platform.wavs[0], "rb") as handle:
        srt = client.audio.transcriptions.create(model="x", file=handle, response_format="srt")
    assert "-->" in str(srt) and "00:00:00,000" in str(srt)
    vtt = post_audio(platform, platform.wavs[0], response_format="vtt")
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")
    plain = post_audio(platform, platform.wavs[1], response_format="text")
    assert plain.headers["content-type"].startswith("text/plain") and plain.text.strip()


def test_json_reports_the_model_version_and_a_request_id(platform: Platform) -> None:
    response = post_audio(
        platform, platform.wavs[0], headers={**auth(platform), "X-Request-ID": "abc-1"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == BOOTSTRAP
    assert response.headers["x-request-id"] == "abc-1"
    # the post-processed text is the raw transcript with the listed corrections applied
    fixes = [Correction(**c) for c in body["corrections"]]
    assert apply_corrections(body["text_raw"], fixes) == body["text"]


def _descends(span: str, ancestor: str, parents: dict[str, str]) -> bool:
    """Serve's own spans (fastapi.*) may sit between a request's span and its steps."""
    parent = parents.get(span, "")
    while parent:
        if parent == ancestor:
            return True
        parent = parents.get(parent, "")
    return False


def test_requests_are_traced_with_their_steps_nested(platform: Platform) -> None:
    """OTLP export to a receiver in the test: a transcription's decode, ASR and text steps are
    descendants of its request span."""
    assert post_audio(platform, platform.wavs[1], headers=auth(platform)).status_code == 200
    deadline = time.monotonic() + 30  # the batch span processor exports every 5 s
    while time.monotonic() < deadline:
        spans = list(platform.traces.spans)
        parents = {s["id"]: s["parent"] for s in spans}
        for request in (s for s in spans if s["name"] == "POST /v1/audio/transcriptions"):
            steps = {s["name"] for s in spans if _descends(s["id"], request["id"], parents)}
            if {"audio.decode", "asr.transcribe", "nlp.clean"} <= steps:
                return
        time.sleep(0.5)
    names = {s["id"]: s["name"] for s in platform.traces.spans}
    chains = [
        [s["name"], names.get(s["parent"], s["parent"] or "-")]
        for s in platform.traces.spans
        if s["name"] in ("audio.decode", "asr.transcribe")
    ]
    pytest.fail(f"no nested spans exported; steps and their parents: {chains[:6]}")


def test_ai2text_token_works_against_the_server(platform: Platform) -> None:
    token = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "token", "--sub", "cli", "--scope", "read"],
        env=platform.env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    unknown = httpx.get(f"{platform.url}/v1/transcripts/{uuid.uuid4()}", headers=headers)
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    forbidden = post_audio(platform, platform.wavs[0], headers=headers)
    assert forbidden.status_code == 403 and "'transcribe' scope" in error_of(forbidden)["message"]


def _hs256_signed_with(secret: bytes, claims: dict[str, object]) -> str:
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def test_bad_tokens_get_401(platform: Platform) -> None:
    good = {"sub": "x", "iss": "ai2text", "aud": "ai2text-api", "scope": "read",
            "exp": int(time.time()) + 600}  # fmt: skip
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(good).encode()).rstrip(b"=").decode()
    tokens = {
        "missing": None,
        "expired": platform.token(ttl=-120),
        "alg none": f"{unsigned}.{payload}.",
        "other audience": platform.token(aud="another-api"),
        "hs256 with the rs256 public key": _hs256_signed_with(platform.public_pem, good),
        "garbage": "abc.def.ghi",
    }
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.get(f"{platform.url}/v1/transcripts/{uuid.uuid4()}", headers=headers)
        assert response.status_code == 401, name
        assert error_of(response)["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


def _raw_request(platform: Platform, head: str, chunks: list[bytes]) -> bytes:
    where = urlsplit(platform.url)
    with socket.create_connection((where.hostname, where.port), timeout=60) as conn:
        conn.sendall(head.encode())
        try:
            for chunk in chunks:
                conn.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before we finished sending: that is the point
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = conn.recv(65536)
            if not data:
                break
            answer += data
        return answer


def _multipart(size: int) -> tuple[str, bytes]:
    boundary = "ai2textboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
            f"Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + b"\0" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return boundary, body


def test_oversize_uploads_get_413(platform: Platform) -> None:
    token = platform.token("big")
    boundary, body = _multipart(MAX_UPLOAD_BYTES + 200_000)
    honest = httpx.post(
        f"{platform.url}/v1/audio/transcriptions", content=body, timeout=60,
        headers={"Authorization": f"Bearer {token}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    assert honest.status_code == 413 and error_of(honest)["code"] == "too_large"
    # no Content-Length at all (chunked): counted while it streams in
    head = (
        "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
    )
    step = 64 * 1024
    chunks = [b"%x\r\n%s\r\n" % (len(body[i : i + step]), body[i : i + step])
              for i in range(0, len(body), step)] + [b"0\r\n\r\n"]  # fmt: skip
    answer = _raw_request(platform, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # a Content-Length that lies low: the server reads only what was declared, refuses the
    # truncated form with a 4xx, and stays up
    lying = head.replace("Transfer-Encoding: chunked", "Content-Length: 1000")
    answer = _raw_request(platform, lying, [body])
    assert answer[9:10] == b"4", answer[:200]
    assert httpx.get(f"{platform.url}/health").status_code == 200


def test_non_audio_and_bad_forms_get_4xx(platform: Platform, tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("này không phải âm thanh\n" * 50)
    response = post_audio(platform, text)
    assert response.status_code == 415 and error_of(response)["code"] == "audio_decode"
    noise = tmp_path / "noise.mp3"
    noise.write_bytes(bytes(range(256)) * 64)
    assert post_audio(platform, noise).status_code == 415
    missing = httpx.post(f"{platform.url}/v1/audio/transcriptions", headers=auth(platform),
                         data={"model": "x"})  # fmt: skip
    assert missing.status_code == 422 and error_of(missing)["code"] == "invalid_input"
    wrong = post_audio(platform, platform.wavs[0], response_format="xml")
    assert wrong.status_code == 422
    language = post_audio(platform, platform.wavs[0], language="en")
    assert language.status_code == 422 and "language" in error_of(language)["message"]
    route = httpx.get(f"{platform.url}/v1/nothing-here", headers=auth(platform))
    assert route.status_code == 404 and error_of(route)["code"] == "not_found"


def test_ingest_dedupes_and_transcripts_take_corrections(platform: Platform) -> None:
    headers = auth(platform, sub="ingester")
    first = post_audio(platform, platform.wavs[2], "/v1/ingest", headers, speaker_id="spk-1")
    assert first.status_code == 202 and first.json()["duplicate"] is False
    audio_id = first.json()["audio_id"]
    again = post_audio(platform, platform.wavs[2], "/v1/ingest", headers)
    assert again.status_code == 202 and again.json() == {**first.json(), "duplicate": True}
    url = f"{platform.url}/v1/transcripts/{audio_id}"
    # the pipeline may already have transcribed it
    assert httpx.get(url, headers=headers).json()["status"] in ("pending", "done")
    empty = httpx.put(url, headers=headers, json={"text": ""})
    assert empty.status_code == 422
    fixed = httpx.put(url, headers=headers, json={"text": "  Cảm ơn   anh nhiều "})
    assert fixed.status_code == 200
    shown = httpx.get(url, headers=headers).json()
    assert shown["status"] == "done" and shown["verified"] is True
    assert shown["text"] == "Cảm ơn anh nhiều" and shown["verified_by"] == "ingester"
    assert (
        httpx.get(f"{platform.url}/v1/transcripts/not-a-uuid", headers=headers).status_code == 404
    )
    with psycopg.connect(platform.env["AI2TEXT_DATABASE_URL"]) as conn:
        audit = conn.execute(
            "SELECT action, actor FROM audit_log WHERE entity_id = %s ORDER BY id", (audio_id,)
        ).fetchall()
        events = conn.execute(
            "SELECT count(*) FROM bus_events WHERE type = 'recording.ingested' AND subject = %s",
            (audio_id,),
        ).fetchone()
    assert audit == [("audio.create", "ingester"), ("transcript.correct", "ingester")]
    assert events == (1,)


def test_concurrent_requests_share_batches_and_metrics_show_it(platform: Platform) -> None:
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda i: post_audio(platform, platform.wavs[i % 3]), range(16)))
    assert [r.status_code for r in responses] == [200] * 16
    metrics = httpx.get(f"{platform.url}/metrics").text
    sizes = {
        int(line.split('size="')[1].split('"')[0]): float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("ai2text_asr_batches{")
    }
    assert sum(size * count for size, count in sizes.items()) >= 16
    assert max(sizes) > 1, sizes
    assert f'ai2text_model_info{{version="{BOOTSTRAP}"}} 1.0' in metrics
    assert 'route="/v1/audio/transcriptions",status="200"' in metrics
    assert "ai2text_http_request_seconds_bucket" in metrics
    assert httpx.get(f"{platform.url}/health").json()["model_version"] == BOOTSTRAP


def _stream(
    platform: Platform, audio: np.ndarray, headers: dict[str, str] | None = None,
    frame_s: float = 0.1,
) -> tuple[list[dict[str, Any]], int | None]:  # fmt: skip
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    url = platform.url.replace("http://", "ws://") + "/v1/asr/stream"
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    step = int(frame_s * 16000) * 2
    messages: list[dict[str, Any]] = []
    with connect(url, additional_headers=headers or {}, open_timeout=30) as ws:
        try:
            ws.send(json.dumps({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"}))
            for i in range(0, len(pcm), step):
                ws.send(pcm[i : i + step])
            ws.send(json.dumps({"type": "end"}))
            while True:
                messages.append(json.loads(ws.recv(timeout=60)))
        except ConnectionClosed:
            pass
        code = ws.close_code
    return messages, code


def test_websocket_streams_partials_then_finals(platform: Platform) -> None:
    from ai2text.audio.wav import read_wav

    first, second = (read_wav(p)[0] for p in platform.wavs[:2])
    audio = np.concatenate([first, np.zeros(24000, np.float32), second])
    messages, code = _stream(platform, audio, auth(platform))
    assert code == 1000, messages[-3:]
    assert messages[0] == {"type": "started", "model_version": BOOTSTRAP}
    partials = [m for m in messages if m["type"] == "partial"]
    finals = [m for m in messages if m["type"] == "final"]
    assert len(partials) >= len(audio) / 16000 / 0.5  # at least one per 0.5 s of audio
    assert len(finals) == 2, finals  # one at the pause (endpoint), one at the end
    heard = " ".join(f["text"] for f in finals)
    reference = f"{platform.texts[0]} {platform.texts[1]}"
    assert score_utterance(reference, heard).cer <= 0.3, (reference, heard)
    words = [w for f in finals for w in f["words"]]
    assert [w["word"] for w in words] == heard.split()
    assert all(a["end"] <= b["start"] + 0.05 for a, b in itertools.pairwise(words))
    assert finals[1]["words"][0]["start"] > first.size / 16000  # times are the stream's
    metrics = httpx.get(f"{platform.url}/metrics").text
    assert "ai2text_stream_batches{" in metrics


def test_websocket_limits_and_auth(platform: Platform) -> None:
    audio = np.zeros(16000, np.float32)
    _, code = _stream(platform, audio)  # no token at all
    assert code == 1008
    big = np.zeros(3 * 16000, np.float32)
    messages, code = _stream(platform, big, auth(platform), frame_s=3.0)  # 96 KiB frames
    assert code == 1009 and messages[-1]["error"]["message"] == "the audio frame is too large"
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    token = platform.token("short", ttl=1)
    url = platform.url.replace("http://", "ws://") + f"/v1/asr/stream?token={token}"
    with connect(url, open_timeout=30) as ws:
        ws.send(json.dumps({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"}))
        assert json.loads(ws.recv(timeout=30))["type"] == "started"
        time.sleep(2.5)
        with pytest.raises(ConnectionClosed):
            ws.send(bytes(3200))
            while True:
                ws.recv(timeout=30)
        assert ws.close_code == 1008 and ws.close_reason == "the token has expired"


def test_schemathesis_finds_no_5xx(platform: Platform) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{platform.url}/openapi.json",
         "--checks", "not_a_server_error", "--max-examples", "15", "--seed", "1",
         "--header", f"Authorization: Bearer {platform.token('schemathesis', ttl=3600)}",
         "--request-timeout", "60", "--suppress-health-check", "all"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_promotion_swaps_replicas_without_dropping_requests(
    platform: Platform, trained_tiny: TrainedModel
) -> None:
    from ai2text.config import load_settings
    from ai2text.registry.registry import ModelRegistry
    from ai2text.store.database import open_database

    settings = load_settings(
        home=platform.env["AI2TEXT_HOME"], database_url=platform.env["AI2TEXT_DATABASE_URL"]
    )
    with open_database(settings) as db:
        registry = ModelRegistry.from_settings(db, settings)
        registry.register(trained_tiny.path, actor="test", version="tiny-swap")
        seen: list[list[tuple[int, str]]] = [[], []]
        stop = threading.Event()

        def client(results: list[tuple[int, str]]) -> None:
            while not stop.is_set():
                response = post_audio(platform, platform.wavs[0])
                version = response.json().get("model_version", "") if response.is_success else ""
                results.append((response.status_code, version))

        threads = [threading.Thread(target=client, args=(s,)) for s in seen]
        for thread in threads:
            thread.start()
        try:
            time.sleep(2)
            registry.promote("tiny-swap", actor="test", reason="hot swap test")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not all(
                any(v == "tiny-swap" for _, v in s[-3:]) for s in seen
            ):
                time.sleep(0.2)
            time.sleep(1)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            registry.promote(BOOTSTRAP, actor="test", reason="restore")
    for results in seen:
        assert all(status == 200 for status, _ in results), results
        versions = [v for _, v in results]
        assert versions[0] == BOOTSTRAP and versions[-1] == "tiny-swap", versions
        switch = versions.index("tiny-swap")
        assert set(versions[switch:]) == {"tiny-swap"}, versions  # never back to the old model
    log = platform.log.read_text()
    assert f"model {BOOTSTRAP} -> tiny-swap: reconfiguring replicas" in log
    deadline = time.monotonic() + 120
    while httpx.get(f"{platform.url}/health").json()["model_version"] != BOOTSTRAP:
        assert time.monotonic() < deadline, "the restored model was not swapped back in"
        time.sleep(0.5)


def test_rate_limits_per_principal_and_per_address(platform: Platform) -> None:
    token = {"Authorization": f"Bearer {platform.token('flood')}"}
    url = f"{platform.url}/v1/transcripts/{uuid.uuid4()}"
    with httpx.Client() as session:  # one connection: requests fast enough to outrun the refill
        responses = [session.get(url, headers=token) for _ in range(PER_PRINCIPAL + 5)]
    codes = [response.status_code for response in responses]
    assert codes[:10] == [404] * 10 and codes[-1] == 429
    limited = responses[-1]  # not one more request: on a loaded machine the bucket may refill
    assert error_of(limited)["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
    # a new principal per request and a made-up X-Forwarded-For each time: the address still
    # runs out, because this peer is no trusted proxy
    with httpx.Client() as session:
        for i in range(PER_ADDRESS * 3):
            spoofed = {**auth(platform), "X-Forwarded-For": f"198.51.100.{i % 250}"}
            response = session.get(url, headers=spoofed)
            if response.status_code == 429:
                assert "address:127.0.0.1" in error_of(response)["message"]
                break
        else:
            pytest.fail("a spoofed X-Forwarded-For evaded the per-address limit")

"""One real platform for the serving tests: ``ai2text serve`` in a subprocess (local Ray, Serve,
the bundled bootstrap model) on a free loopback port, over the session's PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from psycopg import conninfo, sql

from ai2text.config import DEV_JWT_SECRET
from tests.conftest import free_port

MAX_UPLOAD_BYTES = 1 << 20
PER_PRINCIPAL = 40
PER_ADDRESS = 600
SENTENCES = ["xin chào các bạn", "hôm nay trời đẹp quá", "cảm ơn anh nhiều"]


@dataclass(frozen=True)
class Platform:
    url: str
    env: dict[str, str]
    log: Path
    public_pem: bytes
    wavs: list[Path]
    texts: list[str]

    def token(self, sub: str = "tester", scope: str = "transcribe ingest read write admin",
              ttl: int = 600, **claims: object) -> str:  # fmt: skip
        body = {"sub": sub, "iss": "ai2text", "aud": "ai2text-api", "scope": scope,
                "exp": int(time.time()) + ttl, **claims}  # fmt: skip
        return jwt.encode(body, DEV_JWT_SECRET, "HS256")


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"ai2text serve exited with {process.returncode}:\n{log.read_text()[-4000:]}"
            )
        if "Ctrl-C stops everything" in log.read_text():
            with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
                assert json.loads(response.read())["status"] == "ok"
            return
        time.sleep(0.5)
    pytest.fail(f"ai2text serve not ready in {timeout_s} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Platform]:
    from ai2text.audio.synth import SynthOptions, synthesize

    folder = tmp_path_factory.mktemp("serve")
    name = f"serve_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (folder / "public.pem").write_bytes(public_pem)
    report = synthesize(SENTENCES, folder / "speech", SynthOptions(voices=("vi",), seed=3),
                        progress=False)  # fmt: skip
    rows = [json.loads(line) for line in report.manifest.read_text().splitlines()]
    port = free_port()
    env = {
        **os.environ,
        "AI2TEXT_HOME": str(folder / "home"),
        "AI2TEXT_DATABASE_URL": conninfo.make_conninfo(pg_url, dbname=name),
        "AI2TEXT_AUTH__JWT_PUBLIC_KEY_FILE": str(folder / "public.pem"),
        "AI2TEXT_SERVE__MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
        "AI2TEXT_SERVE__RATE_LIMIT_PER_MINUTE": str(PER_PRINCIPAL),
        "AI2TEXT_SERVE__RATE_LIMIT_PER_ADDRESS_PER_MINUTE": str(PER_ADDRESS),
        "AI2TEXT_SERVE__MODEL_POLL_S": "0.5",
        "AI2TEXT_SERVE__ASR_NUM_CPUS": "0.5",
    }
    log = folder / "serve.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ai2text.cli.main", "serve", "--port", str(port)],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process, log, timeout_s=300)
        wavs = [Path(r["audio_filepath"]) for r in rows]
        yield Platform(url, env, log, public_pem, wavs, [r["text"] for r in rows])
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    assert code == 0, log.read_text()[-4000:]
    assert "stopping" in log.read_text()

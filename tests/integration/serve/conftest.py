"""One real platform for the serving tests: ``ai2text serve`` in a subprocess (local Ray, Serve,
the bundled bootstrap model) on a free loopback port, over the session's PostgreSQL."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from psycopg import conninfo, sql

from ai2text.bench.serve_process import serve_process
from ai2text.config import DEV_JWT_SECRET

MAX_UPLOAD_BYTES = 1 << 20
PER_PRINCIPAL = 40
PER_ADDRESS = 600
SENTENCES = ["xin chào các bạn", "hôm nay trời đẹp quá", "cảm ơn anh nhiều"]


class SpanCollector:
    """An OTLP/HTTP trace receiver on loopback: what the ingress exports, decoded."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        self.spans: list[dict[str, str]] = []
        collected = self.spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        collected.extend(
                            {"name": span.name, "trace": span.trace_id.hex(),
                             "id": span.span_id.hex(), "parent": span.parent_span_id.hex()}
                            for span in scope.spans
                        )  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@dataclass(frozen=True)
class Platform:
    url: str
    env: dict[str, str]
    log: Path
    public_pem: bytes
    wavs: list[Path]
    texts: list[str]
    traces: SpanCollector

    def token(self, sub: str = "tester", scope: str = "transcribe ingest read write admin",
              ttl: int = 600, **claims: object) -> str:  # fmt: skip
        body = {"sub": sub, "iss": "ai2text", "aud": "ai2text-api", "scope": scope,
                "exp": int(time.time()) + ttl, **claims}  # fmt: skip
        return jwt.encode(body, DEV_JWT_SECRET, "HS256")


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
    collector = SpanCollector()
    env = {
        **os.environ,
        "AI2TEXT_SERVE__OTEL_EXPORTER": "otlp",
        "AI2TEXT_SERVE__OTLP_ENDPOINT": collector.url,
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
    try:
        with serve_process(env, log) as server:
            wavs = [Path(r["audio_filepath"]) for r in rows]
            texts = [r["text"] for r in rows]
            yield Platform(server.url, env, log, public_pem, wavs, texts, collector)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    collector.server.shutdown()
    assert server.returncode == 0, server.log_tail()
    assert "stopping" in log.read_text()

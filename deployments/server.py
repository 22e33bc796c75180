"""``ai2text serve``: local Ray, the Serve app, the pipeline and the embedded stores, until Ctrl-C.

The driver keeps the embedded PostgreSQL open for the replicas, deploys ``serve_config.yaml``
with the production model version, waits until ``/health`` answers, starts the pipeline (stage
workers, hot folder, training loop; ASR and embeddings through the deployment handles) and then
watches the registry: when another version becomes production it deploys the config again with
the new ``user_config``, and Serve reconfigures the running ASR replicas in place.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from types import FrameType
from typing import TextIO

import numpy as np

from ai2text.config import Settings
from ai2text.errors import InputError, StorageError
from ai2text.pipeline.runner import Engines, Pipeline
from ai2text.registry.registry import ModelRegistry

READY_TIMEOUT_S = 300.0


def _port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def _production(registry: ModelRegistry) -> str | None:
    current = registry.serving()
    return current.version if current else None


def _wait_ready(url: str, timeout_s: float) -> dict[str, object]:
    from ray import serve

    from deployments.serve_config import APP_NAME

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = serve.status().applications.get(APP_NAME)
        if status is not None and status.status == "DEPLOY_FAILED":
            raise StorageError(f"the Serve application failed to deploy: {status.message}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:  # noqa: S310
                body: dict[str, object] = json.loads(response.read())
                return body
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            time.sleep(0.25)
    raise StorageError(f"the platform did not answer {url}/health within {timeout_s:.0f} s")


def _serve_engines(registry: ModelRegistry) -> Engines:
    """ASR and embeddings through the Serve handles: the pipeline's requests join ``@serve.batch``
    with online traffic."""
    from ray import serve

    from ai2text.asr.transcriber import Transcript
    from deployments.serve_config import APP_NAME

    asr = serve.get_deployment_handle("asr", APP_NAME)
    embeddings = serve.get_deployment_handle("embeddings", APP_NAME)

    def transcribe(batch: list[np.ndarray]) -> list[Transcript]:
        pending = [asr.transcribe.remote(samples) for samples in batch]
        return [response.result() for response in pending]

    def embed(texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = embeddings.embed.remote(texts).result()
        return vectors

    return Engines(transcribe, lambda: _production(registry) or "", embed)


def _start_pipeline(settings: Settings, registry: ModelRegistry, out: TextIO) -> Pipeline | None:
    if not settings.pipeline.enabled:
        return None
    from ai2text.bus.bus import open_bus
    from ai2text.pipeline.runner import Pipeline
    from ai2text.store.vectors import open_vector_store

    bus = open_bus(settings, registry.db)
    vectors = open_vector_store(settings, registry.db)
    pipeline = Pipeline(settings, registry, bus, registry.blobs, vectors, _serve_engines(registry))
    pipeline.start()
    if pipeline.hot_folder is not None:
        print(f"hot folder: {settings.hot_folder_dir}", file=out)
    return pipeline


def _stop_on_sigterm() -> None:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def run_platform(settings: Settings, out: TextIO = sys.stdout) -> int:
    started = time.perf_counter()
    _port_free(settings.serve.host, settings.serve.port)
    import ray
    from ray import serve

    from ai2text.auth import issue_token
    from ai2text.store.database import open_database
    from deployments.app import deploy, serve_config

    _stop_on_sigterm()
    pipeline: Pipeline | None = None
    with open_database(settings) as db:
        registry = ModelRegistry.from_settings(db, settings)
        version = _production(registry)
        # Serve's proxy (uvicorn) rewrites the client address from X-Forwarded-For for the peers
        # in FORWARDED_ALLOW_IPS, loopback by default: only our trusted proxies may do that.
        os.environ["FORWARDED_ALLOW_IPS"] = ",".join(settings.serve.trusted_proxies)
        env_vars = {k: v for k, v in os.environ.items() if k.startswith("AI2TEXT_")}
        env_vars["AI2TEXT_HOME"] = str(settings.home)
        env_vars["FORWARDED_ALLOW_IPS"] = os.environ["FORWARDED_ALLOW_IPS"]
        ray.init(
            # logical CPUs: the serving replicas hold some, and a training run of the pipeline's
            # loop must still be schedulable beside them; the OS shares the real cores
            num_cpus=2 * (os.cpu_count() or 1),
            include_dashboard=settings.serve.dashboard,
            runtime_env={"env_vars": env_vars},
            logging_level=logging.WARNING,
        )
        try:
            deploy(serve_config(settings, version))
            host = f"[{settings.serve.host}]" if ":" in settings.serve.host else settings.serve.host
            url = f"http://{host}:{settings.serve.port}"
            health = _wait_ready(url, READY_TIMEOUT_S)
            cold_start = time.perf_counter() - started
            print(f"ai2text is serving on {url} (model {health.get('model_version')})", file=out)
            print(f"cold start to the first answered request: {cold_start:.1f} s", file=out)
            if settings.env == "dev":
                token = issue_token(settings)
                print(f"dev token (every scope): {token}", file=out)
                print(
                    f"try: curl -H 'Authorization: Bearer {token}' "
                    f"-F file=@speech.wav {url}/v1/audio/transcriptions",
                    file=out,
                )
            pipeline = _start_pipeline(settings, registry, out)
            print("Ctrl-C stops everything.", file=out, flush=True)
            while True:
                time.sleep(settings.serve.model_poll_s)
                promoted = _production(registry)
                if promoted != version:
                    print(f"model {version} -> {promoted}: reconfiguring replicas", file=out)
                    deploy(serve_config(settings, promoted))
                    version = promoted
                    out.flush()
        except KeyboardInterrupt:
            print("stopping", file=out, flush=True)
            if pipeline is not None:
                pipeline.stop()
        finally:
            serve.shutdown()  # type: ignore[no-untyped-call]
            ray.shutdown()
    return 0

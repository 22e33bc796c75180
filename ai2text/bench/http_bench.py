"""``ai2text bench asr --http``: the platform's HTTP route beside the in-process Transcriber.

One run, the same model and the same WAV files on disk: ``clients`` concurrent clients post every
file to ``POST /v1/audio/transcriptions`` of a running platform (ingress, Ray handles, the
``@serve.batch`` ASR deployment), and the same files go through our ``Transcriber`` in this
process at its best: decoded by as many threads as the ingress uses, then one ``transcribe`` call
with the deployment's batch size (feeding it file by file from client threads was slower in
one process: the threads contend for the GIL with the inference loop). The two alternate
``repeats`` times; the
medians of RTFx (audio seconds per wall second) are compared, so the ratio is what HTTP, auth,
multipart parsing and Ray cost. Both sides read and decode the files themselves. The route's
``text_raw`` (before post-processing) is what is compared with the Transcriber's text.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ai2text.asr.model import AsrModel
from ai2text.asr.transcriber import Transcript
from ai2text.bench.asr_bench import RtfxComparison
from ai2text.config import AudioSettings
from ai2text.errors import StorageError


@dataclass(frozen=True)
class HttpBenchResult(RtfxComparison):
    clients: int
    latencies_s: list[float]

    def to_json(self) -> dict[str, Any]:
        p50, p95 = np.percentile(self.latencies_s, [50, 95])
        peer = "in-process Transcriber (same model, files, batch size)"
        return {
            **self.rtfx_json("asr_http", peer),
            "goal_ratio": 0.85,
            "clients": self.clients,
            "request_latency_ms": {"p50": round(1000 * p50), "p95": round(1000 * p95)},
        }


async def _post_all(
    url: str, token: str, paths: list[Path], clients: int
) -> tuple[list[dict[str, Any]], list[float]]:
    """Every file posted once, ``clients`` at a time; answers in file order and latencies."""
    import httpx

    gate = asyncio.Semaphore(clients)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def post(client: httpx.AsyncClient, path: Path) -> tuple[dict[str, Any], float]:
        async with gate:
            started = time.perf_counter()
            response = await client.post(
                f"{url}/v1/audio/transcriptions",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (path.name, path.read_bytes(), "audio/wav")},
                data={"model": "ai2text", "response_format": "json"},
            )
            elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise StorageError(
                f"{path.name}: HTTP {response.status_code} from the platform: {response.text}"
            )
        body: dict[str, Any] = response.json()
        return body, elapsed

    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        answers = await asyncio.gather(*(post(client, path) for path in paths))
    return [body for body, _ in answers], [elapsed for _, elapsed in answers]


def bench_asr_http(
    model: AsrModel,
    model_label: str,
    paths: list[Path],
    url: str,
    token: str,
    *,
    clients: int = 16,
    batch_size: int = 16,
    repeats: int = 3,
) -> HttpBenchResult:
    from ai2text.asr.transcriber import BatchingOptions, Transcriber
    from ai2text.audio.transcoder import SAMPLE_RATE, load_audio
    from ai2text.config import load_settings

    settings = AudioSettings()
    audio_s = sum(load_audio(p, settings).samples.size for p in paths) / SAMPLE_RATE
    batching = BatchingOptions(max_batch_size=batch_size, max_batch_seconds=batch_size * 20.0)
    with (
        Transcriber(model, model_version=model_label, batching=batching) as transcriber,
        ThreadPoolExecutor(load_settings().serve.decode_concurrency) as pool,
    ):

        def local_pass(files: list[Path]) -> list[Transcript]:
            return transcriber.transcribe(
                list(pool.map(lambda p: load_audio(p, settings).samples, files))
            )

        local_pass(paths[:4])
        warm, _ = asyncio.run(_post_all(url, token, paths[:4], clients))
        served = {body.get("model_version") for body in warm}
        if served != {model_label}:
            raise StorageError(
                f"the platform serves {sorted(map(str, served))}, this process loaded "
                f"{model_label}: compare the same model"
            )
        ours_runs, peer_runs, latencies = [], [], []
        for _ in range(repeats):
            started = time.perf_counter()
            answers, run_latencies = asyncio.run(_post_all(url, token, paths, clients))
            ours_runs.append(audio_s / (time.perf_counter() - started))
            latencies.extend(run_latencies)
            started = time.perf_counter()
            local = local_pass(paths)
            peer_runs.append(audio_s / (time.perf_counter() - started))
    agreement = float(
        np.mean(
            [
                " ".join(str(a["text_raw"]).split()) == " ".join(t.text.split())
                for a, t in zip(answers, local, strict=True)
            ]
        )
    )
    return HttpBenchResult(
        files=len(paths),
        audio_s=audio_s,
        clients=clients,
        batch_size=batch_size,
        model=model_label,
        ours_runs=ours_runs,
        peer_runs=peer_runs,
        latencies_s=latencies,
        agreement=agreement,
    )


def print_result(result: HttpBenchResult) -> None:
    print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)

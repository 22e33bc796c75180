"""``ai2text bench stream``: concurrent real-time WebSocket streams against a running platform.

For each N, N clients open ``/v1/asr/stream`` at once and each sends its own file as 16-bit PCM
frames paced at real time (a frame of ``frame_s`` every ``frame_s`` seconds). A partial's latency
is the time from sending the frame that completed the audio the partial covers (its ``end``) to
receiving that partial. The streamed text (the finals, joined) is scored against what was spoken,
beside offline transcription of the same files by the in-process ``Transcriber`` (the peer): the
gap in CER points is what streaming costs in accuracy.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ai2text.asr.model import AsrModel
from ai2text.bench.asr_bench import SpeechFile
from ai2text.errors import StorageError

GOAL_P95_MS = 300.0
GOAL_CER_POINTS = 2.0


@dataclass
class StreamRecord:
    latencies_s: list[float] = field(default_factory=list)
    finals: list[str] = field(default_factory=list)
    partials: int = 0


async def _stream_one(
    url: str, token: str, samples: np.ndarray, frame_s: float, start_at: float
) -> StreamRecord:
    import websockets

    from ai2text.audio.transcoder import SAMPLE_RATE

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    step = round(frame_s * SAMPLE_RATE)
    frames = [pcm[i : i + step] for i in range(0, pcm.size, step)]
    ends_s = [min(pcm.size, i + step) / SAMPLE_RATE for i in range(0, pcm.size, step)]
    sent_at: list[float] = []
    record = StreamRecord()
    ws_url = url.replace("http://", "ws://", 1) + "/v1/asr/stream"
    async with websockets.connect(
        ws_url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=1 << 22
    ) as socket:
        await socket.send(json.dumps({"type": "start", "sample_rate": SAMPLE_RATE}))
        started = json.loads(await socket.recv())
        if started.get("type") != "started":
            raise StorageError(f"the stream did not start: {started}")

        async def send() -> None:
            await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
            origin = time.perf_counter()
            for index, frame in enumerate(frames):
                await asyncio.sleep(max(0.0, origin + index * frame_s - time.perf_counter()))
                sent_at.append(time.perf_counter())
                await socket.send(frame.tobytes())
            await socket.send(json.dumps({"type": "end"}))

        sender = asyncio.create_task(send())
        async for raw in socket:
            received = time.perf_counter()
            event = json.loads(raw)
            if event.get("type") == "partial":
                record.partials += 1
                frame = min(bisect.bisect_left(ends_s, float(event["end"]) - 1e-6), len(ends_s) - 1)
                if frame < len(sent_at):
                    record.latencies_s.append(received - sent_at[frame])
            elif event.get("type") == "final":
                record.finals.append(str(event["text"]))
            elif "error" in event:
                raise StorageError(f"the stream failed: {event}")
        await sender
    return record


async def _run_streams(
    url: str, token: str, audio: Sequence[np.ndarray], frame_s: float
) -> list[StreamRecord]:
    start_at = time.perf_counter() + 1.0  # every client connected before the first frame
    return await asyncio.gather(
        *(_stream_one(url, token, samples, frame_s, start_at) for samples in audio)
    )


def _cer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    from ai2text.eval.metrics import score_corpus, score_utterance

    scores = [score_utterance(r, h) for r, h in zip(references, hypotheses, strict=True)]
    return score_corpus(scores).cer


def bench_stream(
    model: AsrModel,
    model_label: str,
    files: list[SpeechFile],
    url: str,
    token: str,
    *,
    streams: Sequence[int] = (1, 4, 8, 16),
    frame_s: float = 0.1,
) -> list[dict[str, Any]]:
    """One JSON line per N; files are dealt to the N clients in order (``len(files) >= max N``)."""
    from ai2text.asr.transcriber import Transcriber
    from ai2text.audio.transcoder import SAMPLE_RATE, load_audio
    from ai2text.config import AudioSettings

    if len(files) < max(streams):
        raise StorageError(f"{max(streams)} streams need as many files, got {len(files)}")
    audio = [load_audio(f.path, AudioSettings()).samples for f in files]
    with Transcriber(model, model_version=model_label) as transcriber:
        offline = [t.text for t in transcriber.transcribe(audio)]
    lines = []
    for count in streams:
        records = asyncio.run(_run_streams(url, token, audio[:count], frame_s))
        references = [f.text for f in files[:count]]
        streamed_cer = _cer(references, [" ".join(r.finals) for r in records])
        offline_cer = _cer(references, offline[:count])
        latencies = [s for r in records for s in r.latencies_s]
        p50, p95 = np.percentile(latencies, [50, 95]) if latencies else (np.nan, np.nan)
        lines.append(
            {
                "bench": "stream",
                "streams": count,
                "metric": "final_cer",
                "ours": round(streamed_cer, 4),
                "peer": "offline in-process Transcriber on the same audio",
                "peer_value": round(offline_cer, 4),
                "ratio": round(streamed_cer / offline_cer, 3) if offline_cer else None,
                "cer_gap_points": round(100 * (streamed_cer - offline_cer), 2),
                "partial_latency_ms": {"p50": round(1000 * p50), "p95": round(1000 * p95)},
                "partials": sum(r.partials for r in records),
                "audio_s_per_stream": round(
                    float(np.mean([a.size for a in audio[:count]])) / SAMPLE_RATE, 1
                ),
                "frame_ms": round(1000 * frame_s),
                "goals": {
                    "p95_ms_at_8_streams": GOAL_P95_MS,
                    "cer_gap_points": GOAL_CER_POINTS,
                },
                "model": model_label,
            }
        )
    return lines

"""The Serve ingress: the FastAPI app of :mod:`deployments.api` over deployment handles.

Decoding (ffmpeg) and database work run in this replica's threads; ASR, text post-processing and
embeddings are calls on their deployments' handles, so requests from every client reach the ASR
replicas' ``@serve.batch`` together.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from typing import Any

import numpy as np
from fastapi import FastAPI
from opentelemetry import trace
from ray import serve
from ray.serve.handle import DeploymentHandle

from ai2text.asr.transcriber import Transcript
from ai2text.audio.transcoder import SAMPLE_RATE
from ai2text.config import load_settings
from ai2text.search.hybrid import SearchQuery
from ai2text.store.recordings import AudioSlice
from deployments.api import create_api

_tracer = trace.get_tracer("ai2text.ingress")


@serve.deployment(
    name="ingress",
    ray_actor_options={"num_cpus": 0},
    max_ongoing_requests=128,
    max_queued_requests=512,
)
@serve.ingress()
class Ingress:
    def __init__(
        self,
        asr: DeploymentHandle[Any],
        stream: DeploymentHandle[Any],
        nlp: DeploymentHandle[Any],
        embeddings: DeploymentHandle[Any],
    ) -> None:
        from ai2text.bus.bus import open_bus
        from ai2text.store.blobs import open_blob_store
        from ai2text.store.database import open_database
        from ai2text.store.vectors import open_vector_store
        from deployments.tracing import configure_tracing

        self.settings = load_settings()
        configure_tracing(self.settings.serve)
        self._stack = ExitStack()
        self.db = self._stack.enter_context(open_database(self.settings))
        self.blobs = open_blob_store(self.settings)
        self.bus = open_bus(self.settings, self.db)
        self._stack.callback(self.bus.close)
        self.vectors = open_vector_store(self.settings, self.db)
        self.asr = asr
        self.stream = stream
        self.nlp = nlp
        self.embeddings = embeddings
        self._decodes = asyncio.Semaphore(self.settings.serve.decode_concurrency)

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_api(self)

    async def transcribe(self, samples: np.ndarray) -> Transcript:
        with _tracer.start_as_current_span("asr.transcribe") as span:
            span.set_attribute("audio.seconds", samples.size / SAMPLE_RATE)
            result: Transcript = await self.asr.transcribe.remote(samples)
            span.set_attribute("model.version", result.model_version)
        return result

    async def clean(self, text: str) -> dict[str, Any]:
        with _tracer.start_as_current_span("nlp.clean"):
            cleaned: dict[str, Any] = await self.nlp.clean.remote(text)
        return cleaned

    async def embed(self, texts: list[str]) -> list[list[float]]:
        with _tracer.start_as_current_span("embeddings.embed"):
            vectors: list[list[float]] = await self.embeddings.embed.remote(texts)
        return vectors

    async def decode(self, data: bytes, filename: str) -> np.ndarray:
        from ai2text.audio.transcoder import decode_bytes
        from ai2text.errors import TooLargeError

        with _tracer.start_as_current_span("audio.decode") as span:
            span.set_attribute("audio.bytes", len(data))
            async with self._decodes:
                decoded = await asyncio.to_thread(decode_bytes, data, self.settings.audio, filename)
        if decoded.duration_s > self.settings.serve.max_upload_duration_s:
            raise TooLargeError(
                f"the audio lasts {decoded.duration_s:.0f} s, over the "
                f"{self.settings.serve.max_upload_duration_s:.0f} s limit of this endpoint"
            )
        return decoded.samples

    async def ingest(
        self,
        data: bytes,
        filename: str,
        speaker_id: str | None,
        reference_text: str | None,
        actor: str,
    ) -> dict[str, Any]:
        from ai2text.pipeline.ingest import ingest_audio

        async with self._decodes:
            result = await asyncio.to_thread(
                lambda: ingest_audio(
                    self.db,
                    self.blobs,
                    self.bus,
                    data,
                    audio=self.settings.audio,
                    source="upload",
                    actor=actor,
                    filename=filename,
                    speaker_id=speaker_id,
                    reference_text=reference_text,
                )
            )
        return result.to_json()

    async def get_transcript(self, audio_id: str) -> dict[str, Any]:
        from ai2text.store.transcripts import get_transcript, parse_audio_id

        key = parse_audio_id(audio_id)

        def read() -> dict[str, Any]:
            with self.db.connection() as conn:
                return get_transcript(conn, key).to_json()

        return await asyncio.to_thread(read)

    async def correct_transcript(self, audio_id: str, text: str, actor: str) -> dict[str, Any]:
        from ai2text.store.transcripts import correct_transcript, parse_audio_id

        key = parse_audio_id(audio_id)

        def write() -> dict[str, Any]:
            with self.db.connection() as conn:
                return correct_transcript(conn, key, text, actor=actor, bus=self.bus).to_json()

        return await asyncio.to_thread(write)

    async def search(self, query: SearchQuery) -> list[dict[str, Any]]:
        from ai2text.search.hybrid import search

        loop = asyncio.get_running_loop()

        def vector() -> list[float]:  # computed while the lexical side runs in PostgreSQL
            return asyncio.run_coroutine_threadsafe(self.embed([query.text]), loop).result()[0]

        with _tracer.start_as_current_span("search.query"):
            hits = await asyncio.to_thread(
                search, self.db, self.vectors, query, vector if query.needs_vector else None
            )
        return [hit.to_json() for hit in hits]

    async def audio(self, audio_id: str, range_header: str | None) -> AudioSlice:
        from ai2text.store.recordings import read_audio
        from ai2text.store.transcripts import parse_audio_id

        key = parse_audio_id(audio_id)
        return await asyncio.to_thread(read_audio, self.db, self.blobs, key, range_header)

    async def delete_recording(self, audio_id: str, actor: str) -> dict[str, Any]:
        from ai2text.store.recordings import delete_recording
        from ai2text.store.transcripts import parse_audio_id

        key = parse_audio_id(audio_id)
        return await asyncio.to_thread(
            lambda: delete_recording(self.db, self.blobs, self.vectors, key, actor=actor)
        )

    async def request_training(self, actor: str) -> dict[str, Any]:
        from ai2text.pipeline.runner import training_request

        event = training_request("manual", actor)

        def publish() -> None:
            with self.db.connection() as conn, conn.transaction():
                self.bus.publish(conn, event)

        await asyncio.to_thread(publish)
        return {"request_id": event.id, "trigger": "manual", "status": "requested"}

    async def pipeline_stats(self) -> dict[str, Any]:
        from ai2text.pipeline.status import pipeline_status

        return await asyncio.to_thread(pipeline_status, self.bus)

    async def stream_info(self) -> dict[str, Any]:
        info: dict[str, Any] = await self.stream.info.remote()
        return info

    async def stream_encode(self, window: np.ndarray) -> np.ndarray:
        log_probs: np.ndarray = await self.stream.encode.remote(window)
        return log_probs

    async def stream_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = await self.stream.stats.remote()
        return stats

    async def asr_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = await self.asr.stats.remote()
        return stats

    def __del__(self) -> None:
        self._stack.close()

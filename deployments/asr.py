"""ASR replicas: batched file transcription and batched streaming steps.

Both take the model version from their ``user_config`` (``{"model_version": ...}``); Serve calls
``reconfigure`` when it changes, on the running replicas. The new model loads beside the old one,
then takes over; requests already running finish on the old one, which closes after its last
request (:class:`ai2text.asr.slot.ModelSlot`).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, Generic, TypeVar

import numpy as np
from ray import serve

from ai2text.asr.model import AsrModel
from ai2text.asr.slot import ModelSlot
from ai2text.asr.streaming import WindowEncoder
from ai2text.asr.transcriber import Transcriber, Transcript
from ai2text.config import load_settings

T = TypeVar("T")


class _VersionedModel(Generic[T]):
    """A replica that serves the registry version its ``user_config`` names."""

    def __init__(self, build: Callable[[AsrModel, str], T], close: Callable[[T], None]) -> None:
        import torch

        from ai2text.allocator import keep_freed_memory
        from ai2text.registry.registry import ModelRegistry
        from ai2text.store.database import open_database

        keep_freed_memory()  # the rest of ai2text.allocator's tuning comes with the environment
        self.settings = load_settings()
        torch.set_num_threads(self.settings.serve.asr_threads or os.cpu_count() or 1)
        self._stack = ExitStack()
        db = self._stack.enter_context(open_database(self.settings))
        self.registry = ModelRegistry.from_settings(db, self.settings)
        self.slot: ModelSlot[T] = ModelSlot(close=close)
        self._build = build
        self.batch_sizes: Counter[int] = Counter()
        self.waiting = 0

    def _load(self, version: str | None) -> tuple[T, str]:
        from ai2text.asr.model import load_model

        path, label = self.registry.resolve(version)
        return self._build(load_model(path), label), label

    async def reconfigure(self, config: dict[str, Any]) -> None:
        version = config.get("model_version") or None
        if version is not None and version == self.slot.label:
            return
        value, label = await asyncio.to_thread(self._load, version)
        self.slot.put(value, label)

    def stats(self) -> dict[str, Any]:
        return {
            "model_version": self.slot.label,
            "batch_sizes": dict(self.batch_sizes),
            "waiting": self.waiting,
        }

    def __del__(self) -> None:
        self.slot.clear()
        self._stack.close()


def _transcriber(model: AsrModel, label: str) -> Transcriber:
    return Transcriber(model, model_version=label)


@serve.deployment(name="asr", max_ongoing_requests=256)
class BatchAsr(_VersionedModel[Transcriber]):
    """Whole files: ``@serve.batch`` gathers concurrent requests into one Transcriber call."""

    def __init__(self) -> None:
        super().__init__(_transcriber, Transcriber.close)
        batched: Any = self._transcribe_batch  # serve.batch's wrapper: tunable at run time
        batched.set_max_batch_size(self.settings.serve.asr_max_batch_size)
        batched.set_batch_wait_timeout_s(self.settings.serve.asr_batch_wait_s)

    async def transcribe(self, samples: np.ndarray) -> Transcript:
        self.waiting += 1
        try:
            result: Transcript = await self._transcribe_batch(samples)
            return result
        finally:
            self.waiting -= 1

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.02)
    async def _transcribe_batch(self, audios: list[np.ndarray]) -> list[Transcript]:
        self.batch_sizes[len(audios)] += 1
        with self.slot.use() as (transcriber, _):
            return await asyncio.to_thread(transcriber.transcribe, audios)


def _encoder(model: AsrModel, label: str) -> WindowEncoder:
    return WindowEncoder(model)


def _keep(encoder: WindowEncoder) -> None:
    """A window encoder holds no thread or file: dropping the reference frees it."""


@serve.deployment(name="stream_asr", max_ongoing_requests=1024)
class StreamingAsr(_VersionedModel[WindowEncoder]):
    """Streaming steps: the windows of every open stream that arrive together run as one batch
    (each window is bounded by the left context plus the new audio)."""

    def __init__(self) -> None:
        super().__init__(_encoder, _keep)

    def info(self) -> dict[str, Any]:
        with self.slot.use() as (encoder, label):
            vocabulary = encoder.model.vocabulary
            return {
                "labels": list(vocabulary.labels),
                "kind": vocabulary.kind,
                "frame_s": encoder.model.frame_s,
                "model_version": label,
            }

    async def encode(self, window: np.ndarray) -> np.ndarray:
        self.waiting += 1
        try:
            result: np.ndarray = await self._encode_batch(window)
            return result
        finally:
            self.waiting -= 1

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.005)
    async def _encode_batch(self, windows: list[np.ndarray]) -> list[np.ndarray]:
        self.batch_sizes[len(windows)] += 1
        with self.slot.use() as (encoder, _):
            return await asyncio.to_thread(encoder.encode, windows)

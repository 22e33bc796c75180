"""Batched ASR replicas: ``@serve.batch`` gathers concurrent requests into one Transcriber call.

The model version comes from the deployment's ``user_config`` (``{"model_version": ...}``); Serve
calls :meth:`BatchAsr.reconfigure` when it changes, on the running replicas. The new model loads
beside the old one, then takes over; requests already running finish on the old one, which closes
after its last request (:class:`ai2text.asr.slot.ModelSlot`).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from contextlib import ExitStack
from typing import Any

import numpy as np
from ray import serve

from ai2text.asr.slot import ModelSlot
from ai2text.asr.transcriber import Transcriber, Transcript
from ai2text.config import load_settings


@serve.deployment(name="asr", max_ongoing_requests=256)
class BatchAsr:
    def __init__(self) -> None:
        import torch

        from ai2text.registry.registry import ModelRegistry
        from ai2text.store.database import open_database

        self.settings = load_settings()
        torch.set_num_threads(self.settings.serve.asr_threads or os.cpu_count() or 1)
        self._stack = ExitStack()
        db = self._stack.enter_context(open_database(self.settings))
        self.registry = ModelRegistry.from_settings(db, self.settings)
        self.slot: ModelSlot[Transcriber] = ModelSlot(close=Transcriber.close)
        self.batch_sizes: Counter[int] = Counter()
        self.waiting = 0
        batched: Any = self._transcribe_batch  # serve.batch's wrapper: tunable at run time
        batched.set_max_batch_size(self.settings.serve.asr_max_batch_size)
        batched.set_batch_wait_timeout_s(self.settings.serve.asr_batch_wait_s)

    def _load(self, version: str | None) -> tuple[Transcriber, str]:
        from ai2text.asr.model import load_model

        path, label = self.registry.resolve(version)
        return Transcriber(load_model(path), model_version=label), label

    async def reconfigure(self, config: dict[str, Any]) -> None:
        version = config.get("model_version") or None
        if version is not None and version == self.slot.label:
            return
        transcriber, label = await asyncio.to_thread(self._load, version)
        self.slot.put(transcriber, label)

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

    def stats(self) -> dict[str, Any]:
        return {
            "model_version": self.slot.label,
            "batch_sizes": dict(self.batch_sizes),
            "waiting": self.waiting,
        }

    def __del__(self) -> None:
        self.slot.clear()
        self._stack.close()

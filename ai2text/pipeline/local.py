"""The single-process pipeline's engines: the in-process Transcriber and embedder.

The Transcriber follows the registry: when another version becomes production (the training
loop promoted it), the next batch loads it, as Serve's replicas do in ``ai2text serve``.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from ai2text.asr.transcriber import Transcriber, Transcript
from ai2text.config import Settings
from ai2text.pipeline.runner import Engines
from ai2text.registry.registry import ModelRegistry

POLL_S = 2.0


class RegistryTranscriber:
    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._checked = 0.0
        self._running: Transcriber | None = None
        self._version = ""

    def version(self) -> str:
        if time.monotonic() - self._checked > POLL_S:
            current = self.registry.serving()
            self._version = current.version if current else ""
            self._checked = time.monotonic()
        return self._version

    def transcribe(self, batch: list[np.ndarray]) -> list[Transcript]:
        from ai2text.asr.model import load_model
        from ai2text.errors import NotFoundError

        with self._lock:
            wanted = self.version()
            if not wanted:
                raise NotFoundError("no production model to transcribe with")
            if self._running is None or self._running.model_version != wanted:
                if self._running is not None:
                    self._running.close()
                self._running = Transcriber(
                    load_model(self.registry.fetch(wanted)), model_version=wanted
                )
            return self._running.transcribe(batch)

    def close(self) -> None:
        with self._lock:
            if self._running is not None:
                self._running.close()
                self._running = None


def local_engines(
    settings: Settings, registry: ModelRegistry
) -> tuple[Engines, RegistryTranscriber]:
    from ai2text.search.embedder import TextEmbedder

    asr = RegistryTranscriber(registry)
    embedder = TextEmbedder(settings.serve.embedding_model_path)
    return Engines(asr.transcribe, asr.version, embedder), asr

"""Sentence embeddings replicas over :class:`ai2text.search.embedder.TextEmbedder`."""

from __future__ import annotations

import asyncio

from ray import serve

from ai2text.config import load_settings
from ai2text.search.embedder import TextEmbedder


@serve.deployment(name="embeddings", ray_actor_options={"num_cpus": 0})
class Embeddings:
    def __init__(self) -> None:
        self.embedder = TextEmbedder(load_settings().serve.embedding_model_path)
        self.name = self.embedder.name

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.embedder, texts)

    def model_name(self) -> str:
        return self.name

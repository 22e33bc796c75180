"""The team's own Vietnamese sentences (``corpus/``), shipped with the package: the training text
of the bootstrap model and of the default syllable language model."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ai2text.errors import InputError
from ai2text.text.syllable_lm import SyllableLM

CORPORA = ("train", "heldout")


def _corpus_text(name: str) -> str:
    if name not in CORPORA:
        raise InputError(f"unknown corpus {name!r}; use one of {', '.join(CORPORA)}")
    return resources.files("ai2text.text").joinpath("corpus", f"{name}.txt").read_text("utf-8")


def corpus_sentences(name: str = "train") -> list[str]:
    return [line.strip() for line in _corpus_text(name).splitlines() if line.strip()]


@lru_cache(maxsize=len(CORPORA))
def corpus_digest(name: str = "train") -> str:
    """A short hash of the corpus text (see :func:`corpus_cache`)."""
    return hashlib.sha256(_corpus_text(name).encode("utf-8")).hexdigest()[:12]


def corpus_cache(cache_dir: Path, model: str) -> Path:
    """Where a trigram ``model`` of the training corpus is cached: under the corpus digest, so a
    cache made from an earlier corpus is never read as this one's."""
    return cache_dir / f"{model}-train-3-{corpus_digest()}.json.gz"


def default_syllable_lm(cache_dir: Path) -> SyllableLM:
    """A trigram LM of the training corpus, built once and cached in ``cache_dir``."""
    path = corpus_cache(cache_dir, "syllable-lm")
    if path.is_file():
        return SyllableLM.load(path)
    lm = SyllableLM.train(corpus_sentences("train"), order=3)
    cache_dir.mkdir(parents=True, exist_ok=True)
    lm.save(path)
    return lm

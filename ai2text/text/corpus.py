"""The team's own Vietnamese sentences (``corpus/``), shipped with the package: the training text
of the bootstrap model and of the default syllable language model."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ai2text.errors import InputError
from ai2text.text.syllable_lm import SyllableLM

CORPORA = ("train", "heldout")


def corpus_sentences(name: str = "train") -> list[str]:
    if name not in CORPORA:
        raise InputError(f"unknown corpus {name!r}; use one of {', '.join(CORPORA)}")
    text = resources.files("ai2text.text").joinpath("corpus", f"{name}.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def default_syllable_lm(cache_dir: Path) -> SyllableLM:
    """A trigram LM of the training corpus, built once and cached in ``cache_dir``."""
    path = cache_dir / "syllable-lm-train-3.json.gz"
    if path.is_file():
        return SyllableLM.load(path)
    lm = SyllableLM.train(corpus_sentences("train"), order=3)
    cache_dir.mkdir(parents=True, exist_ok=True)
    lm.save(path)
    return lm

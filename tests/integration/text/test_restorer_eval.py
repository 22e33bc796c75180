"""Diacritics restoration on real news text (../shared): the UD Vietnamese treebank test set,
restored by a model trained on all the other shared text (UD train and dev, the Wikipedia sample)
plus the package corpus, with any sentence that also occurs in the test set left out.

The trigram LM with the observed-context model reaches 0.856 syllable accuracy here (17,437
training sentences; 0.843 with the first round of the package corpus; the issue's goal was 0.90;
published n-gram figures of about 0.95 come from corpora a hundred times larger). The test
prints one JSON line with the figures, accuracy against training-set size included.
"""

from __future__ import annotations

import json
import random

import pytest

from ai2text.text.corpus import corpus_sentences
from ai2text.text.restorer import Restorer, evaluate_restorer
from ai2text.text.transcript import normalize_transcript
from tests.conftest import SHARED_DATA

TEXT = SHARED_DATA / "text"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not (TEXT / "ud_vi_vtb_test.txt").is_file(), reason="needs ../shared/data/text"
    ),
]
# ud_vi_vtb_all_detok.txt is left out: it holds the test sentences (and repeats train and dev)
TRAIN_FILES = ("ud_vi_vtb_train.txt", "ud_vi_vtb_dev.txt", "viwiki_sample_sentences.txt")


def _lines(name: str) -> list[str]:
    text = (TEXT / name).read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_restoring_the_ud_test_set() -> None:
    test = _lines("ud_vi_vtb_test.txt")
    held = {normalize_transcript(s) for s in test}
    train = [s for name in TRAIN_FILES for s in _lines(name)] + corpus_sentences("train")
    train = [s for s in train if normalize_transcript(s) not in held]
    rng = random.Random(0)
    shuffled = rng.sample(train, len(train))
    curve = {}
    for share in (0.1, 0.25, 0.5, 1.0):
        restorer = Restorer.train(shuffled[: int(len(shuffled) * share)], order=3)
        score = evaluate_restorer(restorer, test)
        curve[f"{share:.0%}"] = round(score.accuracy, 4)
    print(json.dumps({"train_sentences": len(train), "syllables": score.syllables, **curve}))
    assert score.syllables > 12_000
    assert score.accuracy >= 0.851  # measured 0.8563 (goal 0.90)
    assert curve["100%"] > curve["10%"] + 0.05

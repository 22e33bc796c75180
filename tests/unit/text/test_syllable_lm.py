from __future__ import annotations

import math
from pathlib import Path

import pytest

from ai2text.errors import InputError
from ai2text.text.syllable_lm import EOS, SyllableLM

CORPUS = [
    "tôi đi học",
    "tôi đi làm",
    "tôi đi chợ mua rau",
    "mẹ tôi đi chợ",
    "hôm nay tôi đi học",
    "chúng tôi đi làm",
    "trời hôm nay đẹp quá",
]


@pytest.fixture(scope="module")
def lm() -> SyllableLM:
    return SyllableLM.train(CORPUS, order=3)


def test_probabilities_sum_to_one_over_the_vocabulary(lm: SyllableLM) -> None:
    for history in ([], ["tôi"], ["tôi", "đi"], ["xa", "lạ"]):
        words = [*sorted(lm.vocabulary), EOS, "<unk>"]
        total = sum(math.exp(lm.logprob(history, w)) for w in words)
        assert total == pytest.approx(1.0, abs=1e-6)


def test_it_prefers_the_toned_form_it_has_seen(lm: SyllableLM) -> None:
    assert lm.logprob(["tôi"], "đi") > lm.logprob(["tôi"], "đì")
    assert lm.score("tôi đi học") > lm.score("tối đi hộc")


def test_unseen_text_has_finite_probability(lm: SyllableLM) -> None:
    assert math.isfinite(lm.score("con mèo ngủ trên mái nhà"))
    assert lm.perplexity(["tôi đi học"]) < lm.perplexity(["học đi tôi"])


def test_save_and_load_round_trip(lm: SyllableLM, tmp_path: Path) -> None:
    path = tmp_path / "lm.json.gz"
    lm.save(path)
    again = SyllableLM.load(path)
    assert again.score("mẹ tôi đi chợ mua rau") == pytest.approx(lm.score("mẹ tôi đi chợ mua rau"))
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    with pytest.raises(InputError):
        SyllableLM.load(tmp_path / "bad.json.gz")


def test_bad_training_input() -> None:
    with pytest.raises(InputError):
        SyllableLM.train(["", "  "])
    with pytest.raises(InputError):
        SyllableLM.train(CORPUS, order=0)

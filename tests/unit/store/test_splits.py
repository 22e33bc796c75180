from __future__ import annotations

from collections import Counter

from ai2text.config import SplitPolicy
from ai2text.store.splits import speaker_bucket, split_for


def test_bucket_is_stable_and_in_range() -> None:
    assert speaker_bucket("speaker-42") == speaker_bucket("speaker-42")
    assert all(0 <= speaker_bucket(f"s{i}") < 100 for i in range(1000))


def test_bucket_is_the_first_32_bits_of_sha256_mod_100() -> None:
    # sha256("spk1") begins 864e68c9; 0x864e68c9 = 2253285577, mod 100 = 77
    assert speaker_bucket("spk1") == 77


def test_split_ratios_follow_the_policy() -> None:
    policy = SplitPolicy(train_percent=80, val_percent=10)
    counts = Counter(split_for(f"speaker-{i}", policy) for i in range(20000))
    assert abs(counts["train"] / 20000 - 0.80) < 0.02
    assert abs(counts["val"] / 20000 - 0.10) < 0.02
    assert abs(counts["test"] / 20000 - 0.10) < 0.02

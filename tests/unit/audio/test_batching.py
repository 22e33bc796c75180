from __future__ import annotations

from ai2text.audio.batching import pack_by_length, padding_fraction


def test_batches_respect_budget_and_size() -> None:
    lengths = [10, 3, 7, 7, 2, 9, 4, 4]
    batches = pack_by_length(lengths, budget=20, max_items=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) * max(lengths[i] for i in batch) <= 20 or len(batch) == 1
    assert batches[0][0] == 0  # longest first


def test_sorting_keeps_padding_low() -> None:
    # 1..20 s interleaved short and long, as they arrive in a manifest
    pairs = zip(range(1, 11), range(20, 10, -1), strict=True)
    lengths = [16000 * s for pair in pairs for s in pair]
    sorted_batches = pack_by_length(lengths, budget=16000 * 40, max_items=2)
    naive = [[i, i + 1] for i in range(0, 20, 2)]
    assert padding_fraction(lengths, sorted_batches) < 0.1 < padding_fraction(lengths, naive)
    assert padding_fraction([5, 5], [[0, 1]]) == 0.0

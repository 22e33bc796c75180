"""Packing utterances of different lengths into batches that waste little on padding.

Longest first; a batch grows while (items + 1) x its longest item stays within the budget. Used
by the Transcriber for inference and by training (where the batches are then shuffled).
"""

from __future__ import annotations

from collections.abc import Sequence


def pack_by_length(lengths: Sequence[int], budget: int, max_items: int) -> list[list[int]]:
    """Indices of ``lengths`` grouped into batches, longest batch first."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    for index in order:
        current = batches[-1] if batches else None
        if (
            current is not None
            and len(current) < max_items
            and (len(current) + 1) * lengths[current[0]] <= budget
        ):
            current.append(index)
        else:
            batches.append([index])
    return batches


def padding_fraction(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """Share of padded samples in the batches (0 when every batch holds equal lengths)."""
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches if b)
    real = sum(lengths[i] for b in batches for i in b)
    return 0.0 if padded == 0 else 1 - real / padded

"""Long audio in overlapping windows, and the windows' words merged back without repeats or gaps.

Each window overlaps its neighbours by ``overlap_s``. A window *owns* the span from the middle of
its left overlap to the middle of its right one; a word is kept from the window that owns its
midpoint. Every instant is owned by exactly one window, and a word shorter than half the overlap
lies whole inside the window that owns it, so no word is lost, cut or repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ai2text.errors import InputError


class Timed(Protocol):
    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...


T = TypeVar("T", bound=Timed)


@dataclass(frozen=True)
class Window:
    """Samples [start, end) of the audio; the window owns times in [own_from_s, own_to_s)."""

    start: int
    end: int
    own_from_s: float
    own_to_s: float

    def offset_s(self, sample_rate: int) -> float:
        return self.start / sample_rate


def plan_windows(
    n_samples: int, sample_rate: int, window_s: float = 30.0, overlap_s: float = 4.0
) -> list[Window]:
    """Windows of ``window_s`` stepping by ``window_s - overlap_s``; one window for short audio."""
    if not 0 <= overlap_s < window_s / 2:
        raise InputError("overlap must be at least 0 and under half the window")
    size = int(window_s * sample_rate)
    step = int((window_s - overlap_s) * sample_rate)
    if n_samples <= size:
        return [Window(0, n_samples, 0.0, float("inf"))]
    starts = [*range(0, n_samples - size, step), max(0, n_samples - size)]
    windows: list[Window] = []
    for i, start in enumerate(starts):
        end = min(n_samples, start + size)
        own_from = 0.0 if i == 0 else (start + (windows[-1].end - start) / 2) / sample_rate
        windows.append(Window(start, end, own_from, float("inf")))
        if i > 0:
            previous = windows[i - 1]
            windows[i - 1] = Window(previous.start, previous.end, previous.own_from_s, own_from)
    return windows


def merge_windows(
    windows: Sequence[Window],
    items: Sequence[Sequence[T]],
    sample_rate: int,
    shift: Callable[[T, float], T],
) -> list[T]:
    """Merge per-window items (times relative to their window) into one absolute timeline.

    ``shift(item, seconds)`` returns the item moved by ``seconds``.
    """
    merged: list[T] = []
    for window, window_items in zip(windows, items, strict=True):
        offset = window.offset_s(sample_rate)
        for item in window_items:
            moved = shift(item, offset)
            middle = (moved.start + moved.end) / 2
            if window.own_from_s <= middle < window.own_to_s:
                merged.append(moved)
    merged.sort(key=lambda item: item.start)
    return merged

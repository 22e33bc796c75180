from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import pytest

from ai2text.audio.chunking import merge_windows, plan_windows
from ai2text.errors import InputError

RATE = 100  # samples per second keeps the arithmetic readable


@dataclass(frozen=True)
class W:
    word: str
    start: float
    end: float


def shift(word: W, seconds: float) -> W:
    return replace(word, start=word.start + seconds, end=word.end + seconds)


def test_short_audio_is_one_window() -> None:
    (window,) = plan_windows(25 * RATE, RATE, window_s=30, overlap_s=4)
    assert (window.start, window.end) == (0, 25 * RATE)


def test_windows_cover_everything_and_ownership_tiles_time() -> None:
    windows = plan_windows(100 * RATE, RATE, window_s=30, overlap_s=4)
    assert windows[0].start == 0 and windows[-1].end == 100 * RATE
    for left, right in itertools.pairwise(windows):
        assert right.start < left.end  # they overlap
        assert left.own_to_s == right.own_from_s  # owned spans touch, no gap, no overlap
        assert right.start / RATE <= right.own_from_s <= left.end / RATE


@pytest.mark.parametrize("n_seconds", [61, 100, 137])
def test_merge_keeps_each_word_once(n_seconds: int) -> None:
    # a word every 0.7 s lasting 0.5 s: what a recognizer would report in every window it saw
    truth = [W(f"w{i}", i * 0.7, i * 0.7 + 0.5) for i in range(int((n_seconds - 1) / 0.7))]
    windows = plan_windows(n_seconds * RATE, RATE, window_s=30, overlap_s=4)
    per_window = [
        [
            shift(w, -window.start / RATE)
            for w in truth
            if w.start >= window.start / RATE and w.end <= window.end / RATE
        ]
        for window in windows
    ]
    merged = merge_windows(windows, per_window, RATE, shift)
    assert [w.word for w in merged] == [w.word for w in truth]
    assert merged == sorted(merged, key=lambda w: w.start)


def test_bad_overlap_is_refused() -> None:
    with pytest.raises(InputError):
        plan_windows(1000, RATE, window_s=10, overlap_s=6)

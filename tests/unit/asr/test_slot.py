"""The model slot swaps under running requests and closes the old model after the last one."""

from __future__ import annotations

import pytest

from ai2text.asr.slot import ModelSlot
from ai2text.errors import NotFoundError


def test_swap_waits_for_running_requests_before_closing() -> None:
    closed: list[str] = []
    slot: ModelSlot[str] = ModelSlot(close=closed.append)
    with pytest.raises(NotFoundError), slot.use():
        pass
    slot.put("model-a", "a")
    with slot.use() as (running, label):
        assert (running, label) == ("model-a", "a")
        slot.put("model-b", "b")
        assert slot.label == "b"
        assert closed == []  # a request still holds model-a
        with slot.use() as (newer, _):
            assert newer == "model-b"
    assert closed == ["model-a"]
    slot.put("model-c", "c")  # nobody holds model-b: closed at once
    assert closed == ["model-a", "model-b"]
    slot.clear()
    assert closed == ["model-a", "model-b", "model-c"]
    assert slot.label is None

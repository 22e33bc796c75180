"""The training loop's rules (shared by ``ai2text serve`` and the operator), free of I/O."""

from __future__ import annotations

import pytest

from ai2text.pipeline.loop import LoopState, decide_dataset, decide_training

FULL = {"train": 40, "val": 3, "test": 3}


def test_a_trigger_starts_a_run_when_there_is_training_data_and_none_running() -> None:
    decision = decide_training("dataset.ready", LoopState(None, 1.5, None))
    assert decision.go and "1.500 h" in decision.reason


@pytest.mark.parametrize("trigger", ["dataset.ready", "schedule", "manual"])
def test_never_two_runs_at_once(trigger: str) -> None:
    decision = decide_training(trigger, LoopState("loop-abc", 9.0, None))  # type: ignore[arg-type]
    assert not decision.go and "loop-abc" in decision.reason


def test_no_training_audio_no_run() -> None:
    assert not decide_training("manual", LoopState(None, 0.0, None)).go


def test_a_dataset_needs_every_split() -> None:
    decision = decide_dataset("dataset.ready", "d1", None, {"train": 10, "val": 0, "test": 2})
    assert not decision.go and "val" in decision.reason
    assert decide_dataset("dataset.ready", "d1", None, FULL).go


def test_the_same_dataset_twice_trains_again_only_by_hand() -> None:
    assert not decide_dataset("schedule", "d1", "d1", FULL).go
    assert not decide_dataset("dataset.ready", "d1", "d1", FULL).go
    assert decide_dataset("manual", "d1", "d1", FULL).go
    assert decide_dataset("schedule", "d2", "d1", FULL).go

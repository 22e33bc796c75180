"""The operator's decisions: the training loop's rules applied to Datasets and TrainingRuns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from operators.reconcile import (
    DatasetObservation,
    base_version,
    last_trained,
    plan_dataset,
    should_train,
)
from operators.spec import dataset_spec

FULL = {"train": 10, "val": 2, "test": 2}
MORNING = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 21, 3, 30, tzinfo=UTC)


def seen(
    train_hours: float, runs: dict[str, dict[str, Any]] | None = None, digest: str = "h2"
) -> DatasetObservation:
    return DatasetObservation(
        {"train": train_hours, "val": 0.1, "test": 0.1}, FULL, digest, runs or {}
    )


def test_a_crossing_asks_for_one_run_named_after_it() -> None:
    spec = dataset_spec({"hoursThreshold": 2})
    plan = plan_dataset("vi", spec, {"crossings": 1}, seen(6.5), MORNING)
    assert plan.request is not None
    assert (plan.request.name, plan.request.trigger, plan.crossings) == ("vi-h3", "threshold", 3)
    assert plan_dataset("vi", spec, {"crossings": 3}, seen(6.5), MORNING).request is None
    assert plan_dataset("vi", spec, {}, seen(1.9), MORNING).request is None


def test_a_run_that_exists_is_recorded_not_asked_for_again() -> None:
    spec = dataset_spec({"hoursThreshold": 2})
    runs = {"vi-h3": {"phase": "Training"}}  # created before the operator could record it
    plan = plan_dataset("vi", spec, {"crossings": 1}, seen(6.5, runs), MORNING)
    assert plan.request is not None and plan.request.name == "vi-h3" and plan.crossings == 3


def test_a_crossing_waits_while_a_run_is_active_and_is_not_lost() -> None:
    spec = dataset_spec({"hoursThreshold": 2})
    active = {"manual-1": {"phase": "Training"}}
    plan = plan_dataset("vi", spec, {"crossings": 1}, seen(6.5, active), MORNING)
    assert plan.request is None and plan.crossings == 1 and plan.deferred
    assert "already pending or running" in plan.decision.reason
    done = {"manual-1": {"phase": "Failed", "datasetHash": "h1", "completionTime": "t"}}
    later = plan_dataset("vi", spec, {"crossings": 1}, seen(6.5, done), MORNING)
    assert later.request is not None and later.request.name == "vi-h3"


def test_the_schedule_runs_once_a_day_and_only_on_new_data() -> None:
    spec = dataset_spec({"hoursThreshold": 100, "schedule": {"dailyAt": "03:00"}})
    assert plan_dataset("vi", spec, {}, seen(1.0), MORNING).request is None  # not yet 03:00
    plan = plan_dataset("vi", spec, {}, seen(1.0), NIGHT)
    assert plan.request is not None
    assert (plan.request.name, plan.request.trigger, plan.scheduled_day) == (
        "vi-d20261121", "schedule", "2026-11-21",
    )  # fmt: skip
    assert (
        plan_dataset("vi", spec, {"lastScheduled": "2026-11-21"}, seen(1.0), NIGHT).request is None
    )
    trained = {"vi-d20261120": {"phase": "Succeeded", "datasetHash": "h2", "completionTime": "t"}}
    same = plan_dataset("vi", spec, {}, seen(1.0, trained, digest="h2"), NIGHT)
    assert same.request is None and same.scheduled_day == "2026-11-21"  # nothing new: day done
    assert "last run trained on" in same.decision.reason
    newer = plan_dataset("vi", spec, {}, seen(1.0, trained, digest="h3"), NIGHT)
    assert newer.request is not None


def test_no_training_data_no_run() -> None:
    spec = dataset_spec({"hoursThreshold": 1, "schedule": {"dailyAt": "03:00"}})
    plan = plan_dataset("vi", spec, {}, seen(0.0), NIGHT)
    assert plan.request is None and "no transcribed training-split audio" in plan.decision.reason


def test_training_run_rules() -> None:
    assert not should_train("threshold", "h1", None, {"train": 3, "val": 0, "test": 1}).go
    assert not should_train("threshold", "h1", "h1", FULL).go
    assert should_train("manual", "h1", "h1", FULL).go  # asked by hand: train anyway
    assert (
        last_trained(
            {
                "a": {
                    "phase": "Succeeded",
                    "datasetHash": "old",
                    "completionTime": "2026-01-01T00:00:00Z",
                },
                "b": {
                    "phase": "Failed",
                    "datasetHash": "new",
                    "completionTime": "2026-02-01T00:00:00Z",
                },
                "c": {
                    "phase": "Skipped",
                    "datasetHash": "skipped",
                    "completionTime": "2026-03-01T00:00:00Z",
                },
            }
        )
        == "new"
    )
    assert base_version("production", "tiny-1") == "tiny-1"
    assert base_version("production", None) is None
    assert base_version("none", "tiny-1") is None
    assert base_version("small-9", "tiny-1") == "small-9"

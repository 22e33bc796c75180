"""What the operator should do, as pure functions over specs and observed state.

The rules themselves are the training loop's (:mod:`ai2text.pipeline.loop`): a threshold
crossing, the daily schedule, "never two runs at once", "no run without new data in every split".
``ai2text serve`` applies them to its own queue; here they decide which ``TrainingRun`` a
``Dataset`` creates and whether a ``TrainingRun`` trains at all, so both drivers agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ai2text.pipeline.loop import (
    Decision,
    LoopState,
    crossings,
    decide_dataset,
    decide_training,
    schedule_due,
)
from operators.builders import crossing_run_name, scheduled_run_name
from operators.spec import LOOP_TRIGGERS, DatasetSpec, TrainingTrigger

TERMINAL_PHASES = frozenset({"Succeeded", "Failed", "Skipped"})


@dataclass(frozen=True)
class DatasetObservation:
    """What a Dataset's refresh found: the current build and the TrainingRuns it owns."""

    hours: Mapping[str, float]
    sizes: Mapping[str, int]
    dataset_hash: str
    owned_runs: Mapping[str, Mapping[str, Any]]  # name -> status


@dataclass(frozen=True)
class RunRequest:
    name: str
    trigger: TrainingTrigger
    reason: str


@dataclass(frozen=True)
class DatasetPlan:
    request: RunRequest | None  # create this TrainingRun (it may exist already: then only record)
    crossings: int  # the crossings count the status should record
    scheduled_day: str | None  # the day the status should record as scheduled
    decision: Decision
    deferred: bool = False  # a crossing is due but must wait (a run is active)


def active_run(owned: Mapping[str, Mapping[str, Any]]) -> str | None:
    pending = sorted(n for n, s in owned.items() if s.get("phase") not in TERMINAL_PHASES)
    return pending[0] if pending else None


def last_trained(owned: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The dataset hash of the latest finished, non-skipped run."""
    done = [
        s
        for s in owned.values()
        if s.get("phase") in {"Succeeded", "Failed"} and s.get("datasetHash")
    ]
    done.sort(key=lambda s: str(s.get("completionTime") or ""))
    return str(done[-1]["datasetHash"]) if done else None


def plan_dataset(
    name: str, spec: DatasetSpec, status: Mapping[str, Any], seen: DatasetObservation, now: datetime
) -> DatasetPlan:
    """The TrainingRun (if any) a Dataset asks for now, and what its status should record."""
    train_hours = float(seen.hours.get("train", 0.0))
    recorded = int(status.get("crossings") or 0)
    crossed = max(recorded, crossings(train_hours, spec.hours_threshold))
    state = LoopState(active_run(seen.owned_runs), train_hours, last_trained(seen.owned_runs))
    if crossed > recorded:
        run = crossing_run_name(name, crossed)
        if run in seen.owned_runs:  # created before a restart could record it
            return DatasetPlan(
                RunRequest(run, "threshold", "recorded"), crossed, None, Decision(True, "recorded")
            )
        decision = decide_training(LOOP_TRIGGERS["threshold"], state)
        if decision.go:
            reason = f"crossing {crossed} of {spec.hours_threshold} h: {decision.reason}"
            return DatasetPlan(RunRequest(run, "threshold", reason), crossed, None, decision)
        return DatasetPlan(None, recorded, None, decision, deferred=True)  # not lost
    last_day = status.get("lastScheduled")
    day = schedule_due(spec.schedule.daily_at, now, last_day) if spec.schedule.daily_at else None
    if day is None:
        return DatasetPlan(None, recorded, None, Decision(False, "no crossing, nothing scheduled"))
    run = scheduled_run_name(name, day)
    if run in seen.owned_runs:
        return DatasetPlan(
            RunRequest(run, "schedule", "recorded"), recorded, day, Decision(True, "recorded")
        )
    decision = decide_training(LOOP_TRIGGERS["schedule"], state)
    if not decision.go:
        return DatasetPlan(None, recorded, None, decision)  # try again later today
    worth = decide_dataset(
        LOOP_TRIGGERS["schedule"], seen.dataset_hash, state.last_dataset, dict(seen.sizes)
    )
    if not worth.go:
        return DatasetPlan(None, recorded, day, worth)  # nothing new: today is done
    return DatasetPlan(
        RunRequest(run, "schedule", f"schedule {day}: {worth.reason}"), recorded, day, worth
    )


def ready(dataset_hash: str, sizes: Mapping[str, int]) -> Decision:
    """Whether a build can train and be gated: every split has utterances."""
    return decide_dataset("manual", dataset_hash, None, dict(sizes))


def should_train(
    trigger: TrainingTrigger, dataset_hash: str, last: str | None, sizes: Mapping[str, int]
) -> Decision:
    """Whether a TrainingRun trains on this build (the loop's dataset rule)."""
    return decide_dataset(LOOP_TRIGGERS[trigger], dataset_hash, last, dict(sizes))


def base_version(choice: str, production: str | None) -> str | None:
    """The registry version a run fine-tunes: ``production`` (or nothing when there is none),
    ``none`` for training from the preset, or a named version."""
    if choice == "production":
        return production
    if choice == "none":
        return None
    return choice

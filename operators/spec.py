"""The specs of the ``Dataset`` and ``TrainingRun`` custom resources as typed models.

The CRDs in ``manifests/crds/`` validate and default on the API server; these models read a spec
with the same names and defaults (so a spec written before a default existed reads the same), and
refuse what the operator cannot act on with :class:`SpecError` (a permanent error: retrying the
same spec cannot help).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ai2text.config import PromotionPolicy
from ai2text.data.builder import SelectionPolicy
from ai2text.pipeline.loop import Trigger

GROUP = "ai2text.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
DATASETS = "datasets"
TRAINING_RUNS = "trainingruns"
RAY_GROUP = "ray.io"
RAY_VERSION = "v1"

TrainingTrigger = Literal["threshold", "schedule", "manual"]
LOOP_TRIGGERS: dict[TrainingTrigger, Trigger] = {
    "threshold": "dataset.ready",
    "schedule": "schedule",
    "manual": "manual",
}


class SpecError(ValueError):
    """A spec the operator cannot act on, whatever it retries."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Selection(_Spec):
    min_confidence: float = Field(0.9, ge=0, le=1, alias="minConfidence")
    include_pseudo: bool = Field(True, alias="includePseudo")
    shard_size: int = Field(500, ge=1, le=100_000, alias="shardSize")

    def policy(self) -> SelectionPolicy:
        return SelectionPolicy(self.min_confidence, self.include_pseudo, self.shard_size)


class Schedule(_Spec):
    daily_at: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", alias="dailyAt")


class DatasetSpec(_Spec):
    selection: Selection = Selection()
    hours_threshold: float = Field(1.0, gt=0, alias="hoursThreshold")
    schedule: Schedule = Schedule()
    refresh_seconds: int = Field(60, ge=1, le=86_400, alias="refreshSeconds")
    training: dict[str, Any] = Field(default_factory=dict)


class ModelChoice(_Spec):
    preset: Literal["tiny", "small", "large"] = "tiny"
    base_version: str = Field(
        "production", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", alias="baseVersion"
    )


class Training(_Spec):
    max_steps: int = Field(300, ge=1, alias="maxSteps")
    batch_seconds: float = Field(90.0, ge=1, alias="batchSeconds")
    grad_accumulation: int = Field(1, ge=1, le=1024, alias="gradAccumulation")
    lr: float = Field(5e-4, gt=0, le=1)
    warmup_steps: int = Field(50, ge=0, alias="warmupSteps")


class Trainer(_Spec):
    workers: int = Field(1, ge=1, le=256)
    gpus_per_worker: int = Field(1, ge=0, le=16, alias="gpusPerWorker")
    cpus_per_worker: int = Field(4, ge=1, le=256, alias="cpusPerWorker")
    memory_per_worker: str = Field(
        "16Gi", pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", alias="memoryPerWorker"
    )
    image: str | None = None
    active_deadline_seconds: int = Field(86_400, ge=60, alias="activeDeadlineSeconds")


class Promotion(_Spec):
    policy: Literal["gate", "never"] = "gate"
    min_wer_gain: float = Field(0.005, ge=0, le=1, alias="minWerGain")
    max_cer_loss: float = Field(0.0, ge=0, le=1, alias="maxCerLoss")
    wer_ceiling: float = Field(0.5, gt=0, le=1, alias="werCeiling")

    def gate(self) -> PromotionPolicy:
        return PromotionPolicy(
            min_wer_gain=self.min_wer_gain,
            max_cer_loss=self.max_cer_loss,
            wer_ceiling=self.wer_ceiling,
        )


class DatasetRef(_Spec):
    name: str = Field(min_length=1, max_length=253)


class ServingRef(_Spec):
    name: str = Field("ai2text", min_length=1, max_length=253)


class TrainingRunSpec(_Spec):
    dataset_ref: DatasetRef = Field(alias="datasetRef")
    trigger: TrainingTrigger = "manual"
    model: ModelChoice = ModelChoice()
    training: Training = Training()
    precision: Literal["fp32", "bf16", "fp16"] = "bf16"
    trainer: Trainer = Trainer()
    promotion: Promotion = Promotion()
    serving_ref: ServingRef = Field(ServingRef(), alias="servingRef")


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], kind: str, spec: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(spec))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SpecError(f"invalid {kind} spec: {where}: {first['msg']}") from exc


def dataset_spec(spec: Mapping[str, Any]) -> DatasetSpec:
    return _parse(DatasetSpec, "Dataset", spec)


def training_run_spec(spec: Mapping[str, Any]) -> TrainingRunSpec:
    return _parse(TrainingRunSpec, "TrainingRun", spec)

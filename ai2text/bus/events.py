"""CloudEvents 1.0 envelopes for the pipeline's events (structured JSON mode).

The event types are the arrows of the data flow in ARCHITECTURE.md. ``idempotencykey`` is a
CloudEvents extension attribute: consumers remember it, so a redelivered event, or a second event
for the same work (same audio and model version), never repeats its effect. It defaults to the id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from ai2text.errors import InputError

RECORDING_INGESTED: Final = "recording.ingested"
TRANSCRIPTION_COMPLETED: Final = "transcription.completed"
NLP_POSTPROCESSED: Final = "nlp.postprocessed"
EMBEDDINGS_INDEXED: Final = "embeddings.indexed"
DATASET_READY: Final = "dataset.ready"
TRAINING_REQUESTED: Final = "training.requested"
TRAINING_STARTED: Final = "training.started"
TRAINING_COMPLETED: Final = "training.completed"
MODEL_PROMOTED: Final = "model.promoted"

EVENT_TYPES: Final = (
    RECORDING_INGESTED,
    TRANSCRIPTION_COMPLETED,
    NLP_POSTPROCESSED,
    EMBEDDINGS_INDEXED,
    DATASET_READY,
    TRAINING_REQUESTED,
    TRAINING_STARTED,
    TRAINING_COMPLETED,
    MODEL_PROMOTED,
)

_TYPE = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$")
SPEC_VERSION: Final = "1.0"


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class CloudEvent:
    """One event. ``id`` must be a UUID string: the stores key deliveries on it."""

    type: str
    source: str
    data: Mapping[str, Any]
    id: str = field(default_factory=_new_id)
    time: datetime = field(default_factory=_now)
    subject: str | None = None
    datacontenttype: str = "application/json"
    idempotencykey: str | None = None

    def __post_init__(self) -> None:
        if not _TYPE.match(self.type):
            raise InputError(f"event type {self.type!r} is not dotted lower-case (a.b)")
        if not self.source:
            raise InputError("event source must not be empty")
        try:
            uuid.UUID(self.id)
        except ValueError as exc:
            raise InputError(f"event id {self.id!r} is not a UUID") from exc
        if self.time.tzinfo is None:
            raise InputError("event time must be timezone-aware")

    @property
    def idempotency_key(self) -> str:
        return self.idempotencykey or self.id

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat(),
            "datacontenttype": self.datacontenttype,
            "data": dict(self.data),
        }
        if self.subject is not None:
            body["subject"] = self.subject
        if self.idempotencykey is not None:
            body["idempotencykey"] = self.idempotencykey
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> CloudEvent:
        if body.get("specversion") != SPEC_VERSION:
            raise InputError(f"unsupported CloudEvents specversion {body.get('specversion')!r}")
        try:
            return cls(
                type=body["type"],
                source=body["source"],
                data=body.get("data") or {},
                id=body["id"],
                time=datetime.fromisoformat(body["time"]),
                subject=body.get("subject"),
                datacontenttype=body.get("datacontenttype", "application/json"),
                idempotencykey=body.get("idempotencykey"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed CloudEvent: {exc}") from exc

from __future__ import annotations

from datetime import datetime

import pytest

from ai2text.bus.events import EVENT_TYPES, RECORDING_INGESTED, CloudEvent
from ai2text.bus.transport import backoff_seconds
from ai2text.config import BusSettings
from ai2text.errors import InputError


def test_round_trip_through_structured_json() -> None:
    event = CloudEvent(
        type=RECORDING_INGESTED,
        source="/ingest/upload",
        subject="audio/123",
        data={"audio_id": "123", "duration_s": 2.5},
        idempotencykey="ingest:123",
    )
    body = event.to_json()
    assert body["specversion"] == "1.0"
    assert set(body) >= {"id", "source", "type", "time", "datacontenttype", "data"}
    assert CloudEvent.from_json(body) == event


def test_idempotency_key_defaults_to_the_id() -> None:
    event = CloudEvent(type=RECORDING_INGESTED, source="s", data={})
    assert event.idempotency_key == event.id
    assert "idempotencykey" not in event.to_json()


def test_all_flow_event_types_are_valid() -> None:
    for event_type in EVENT_TYPES:
        assert CloudEvent(type=event_type, source="s", data={}).type == event_type


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type": "Recording Ingested"},
        {"type": "nodots"},
        {"source": ""},
        {"id": "not-a-uuid"},
        {"time": datetime(2026, 1, 1)},
    ],
)
def test_malformed_events_are_refused(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"type": RECORDING_INGESTED, "source": "s", "data": {}}
    with pytest.raises(InputError):
        CloudEvent(**{**base, **kwargs})  # type: ignore[arg-type]


def test_wrong_specversion_is_refused() -> None:
    body = CloudEvent(type=RECORDING_INGESTED, source="s", data={}).to_json()
    body["specversion"] = "0.3"
    with pytest.raises(InputError, match="specversion"):
        CloudEvent.from_json(body)


def test_backoff_doubles_and_caps() -> None:
    settings = BusSettings(backoff_base_seconds=0.5, backoff_max_seconds=3.0)
    assert [backoff_seconds(settings, n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from ai2text.bus.bus import EventBus, open_bus
from ai2text.bus.events import CloudEvent
from ai2text.config import BusSettings, Settings
from ai2text.store.database import Conn, Database

EVENT = "recording.ingested"


def bus_settings_for(
    transport: str, base: Settings, nats_url: str | None, **bus: object
) -> Settings:
    options: dict[str, object] = {
        "transport": transport,
        "lease_seconds": 1.0,
        "backoff_base_seconds": 0.05,
        "backoff_max_seconds": 0.2,
        "max_attempts": 3,
        "batch_size": 16,
        **bus,
    }
    if transport == "nats":
        options["nats_url"] = nats_url
        options["nats_stream"] = f"T{uuid.uuid4().hex[:10].upper()}"
    return base.model_copy(update={"bus": BusSettings(**options)})  # type: ignore[arg-type]


@pytest.fixture(params=["postgres", "nats"])
def transport_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def bus_settings(
    transport_name: str, settings: Settings, request: pytest.FixtureRequest
) -> Settings:
    nats_url = request.getfixturevalue("nats_url") if transport_name == "nats" else None
    return bus_settings_for(transport_name, settings, nats_url)


@pytest.fixture
def bus(bus_settings: Settings, db: Database) -> Iterator[EventBus]:
    with db.connection() as conn:
        conn.execute("CREATE TABLE effects (event_id text PRIMARY KEY, n integer NOT NULL)")
    event_bus = open_bus(bus_settings, db)
    yield event_bus
    event_bus.close()


def count_effect(event: CloudEvent, conn: Conn) -> None:
    """The effect under test: one row per event, whose n counts how often it was applied."""
    conn.execute(
        "INSERT INTO effects VALUES (%s, 1) ON CONFLICT (event_id) DO UPDATE SET n = effects.n + 1",
        (event.id,),
    )


def effects(db: Database) -> dict[str, int]:
    with db.connection() as conn:
        return {r[0]: r[1] for r in conn.execute("SELECT event_id, n FROM effects").fetchall()}


def publish(bus: EventBus, db: Database, count: int, **fields: object) -> list[CloudEvent]:
    events = [CloudEvent(type=EVENT, source="test", data={"n": n}, **fields) for n in range(count)]  # type: ignore[arg-type]
    with db.connection() as conn, conn.transaction():
        bus.publish(conn, *events)
    bus.pump()
    return events


def run_until(
    step: Callable[[], object], done: Callable[[], bool], timeout_s: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout_s}s")
        step()
        time.sleep(0.01)

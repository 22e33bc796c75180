"""Delivery guarantees, run against both transports (PostgreSQL queue and NATS JetStream)."""

from __future__ import annotations

import threading
import time

from ai2text.bus.bus import EventBus
from ai2text.bus.events import CloudEvent
from ai2text.store.database import Conn, Database
from tests.integration.bus.conftest import EVENT, count_effect, effects, publish, run_until


def test_every_consumer_gets_every_event_once(bus: EventBus, db: Database) -> None:
    first = bus.worker("first", [EVENT], count_effect)
    seen: list[str] = []
    second = bus.worker("second", [EVENT], lambda event, conn: seen.append(event.id))
    events = publish(bus, db, 40)
    run_until(
        lambda: (first.run_once(), second.run_once()),
        lambda: len(effects(db)) == 40 and len(seen) >= 40,
    )
    assert effects(db) == {e.id: 1 for e in events}
    assert sorted(seen) == sorted(e.id for e in events)


def test_a_rolled_back_publish_never_leaves(bus: EventBus, db: Database) -> None:
    worker = bus.worker("c", [EVENT], count_effect)
    with db.connection() as conn:
        try:
            with conn.transaction():
                bus.publish(conn, CloudEvent(type=EVENT, source="test", data={}))
                raise RuntimeError("the stage failed after publishing")
        except RuntimeError:
            pass
    bus.pump()
    kept = publish(bus, db, 1)
    run_until(worker.run_once, lambda: len(effects(db)) == 1)
    for _ in range(5):
        worker.run_once()
    assert effects(db) == {kept[0].id: 1}


def test_failures_retry_with_backoff_then_dead_letter(bus: EventBus, db: Database) -> None:
    attempts: dict[str, int] = {}
    poison: set[str] = set()

    def handler(event: CloudEvent, conn: Conn) -> None:
        if event.id in poison:
            attempts[event.id] = attempts.get(event.id, 0) + 1
            raise ValueError(f"cannot handle {event.data['n']}")
        count_effect(event, conn)

    worker = bus.worker("c", [EVENT], handler)
    events = publish(bus, db, 10)
    poison.add(events[3].id)
    run_until(worker.run_once, lambda: worker.stats.dead == 1, timeout_s=30)
    assert attempts == {events[3].id: 3}
    assert effects(db) == {e.id: 1 for e in events if e.id != events[3].id}
    (stat,) = [s for s in bus.stats() if s.consumer == "c"]
    assert (stat.dead, stat.pending, stat.processed) == (1, 0, 9)
    with db.connection() as conn:
        row = conn.execute(
            "SELECT last_error FROM bus_deliveries WHERE consumer = 'c' AND state = 'dead'"
            " UNION ALL SELECT last_error FROM bus_dead_letters WHERE consumer = 'c'"
        ).fetchone()
    assert row is not None and "ValueError: cannot handle 3" in row[0]


def test_same_idempotency_key_has_one_effect(bus: EventBus, db: Database) -> None:
    applied: list[int] = []

    def handler(event: CloudEvent, conn: Conn) -> None:
        applied.append(event.data["n"])
        count_effect(event, conn)

    worker = bus.worker("c", [EVENT], handler)
    publish(bus, db, 3, idempotencykey="transcribe:audio-1:model-v1")
    run_until(worker.run_once, lambda: worker.stats.handled + worker.stats.skipped_duplicates == 3)
    assert len(effects(db)) == 1
    assert worker.stats.handled == 1


def test_a_lost_lease_is_redelivered(bus: EventBus, db: Database) -> None:
    worker = bus.worker("c", [EVENT], count_effect)
    (event,) = publish(bus, db, 1)
    deadline = time.monotonic() + 10
    lost: list[object] = []
    while not lost and time.monotonic() < deadline:
        lost = list(bus.transport.claim("c", "a-consumer-that-dies", 10))
    assert len(lost) == 1
    assert worker.run_once() == 0  # leased to the dead consumer
    run_until(worker.run_once, lambda: len(effects(db)) == 1, timeout_s=15)
    assert effects(db) == {event.id: 1}


def test_heartbeat_keeps_a_slow_handlers_lease(bus: EventBus, db: Database) -> None:
    started = threading.Event()

    def slow(event: CloudEvent, conn: Conn) -> None:
        started.set()
        time.sleep(3.0)  # three leases
        count_effect(event, conn)

    slow_worker = bus.worker("c", [EVENT], slow)
    rival = bus.worker("c", [EVENT], count_effect)
    publish(bus, db, 1)
    thread = threading.Thread(
        target=run_until, args=(slow_worker.run_once, lambda: slow_worker.stats.handled == 1)
    )
    thread.start()
    assert started.wait(10)
    stolen = 0
    while thread.is_alive():
        stolen += rival.run_once()
        time.sleep(0.1)
    thread.join()
    assert stolen == 0
    assert list(effects(db).values()) == [1]

"""``ai2text bench bus``: events per second through the PostgreSQL queue, beside a bare floor.

Ours: a producer publishes events in transactions of ``batch`` events while ``consumers``
processes run :class:`~ai2text.bus.worker.Worker` (claim with SKIP LOCKED, record the idempotency
key, run a handler that writes nothing, acknowledge) until the queue is empty. The peer, on the
same database with the same batch size and consumer count, is the least a queue in PostgreSQL can
do: INSERT rows, and consumers DELETE ... RETURNING them with SKIP LOCKED, no leases, no
idempotency, no retries. Both clocks run from the first enqueue to the last acknowledgement.
Everything runs in a scratch database, dropped afterwards.
"""

from __future__ import annotations

import multiprocessing as mp
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

import psycopg
from psycopg import conninfo, sql

from ai2text.bus.events import CloudEvent
from ai2text.config import BusSettings, Settings
from ai2text.store.database import Conn, Database, database_url, open_database

EVENT_TYPE = "bench.bus"
CONSUMER = "bench"


@dataclass(frozen=True)
class BusBenchResult:
    consumers: int
    events: int
    ours_events_per_s: float
    floor_events_per_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "bench": "bus",
            "metric": "events_per_s",
            "unit": "events/s",
            "consumers": self.consumers,
            "events": self.events,
            "ours": round(self.ours_events_per_s, 1),
            "peer": "bare INSERT/DELETE loop (same database, batch and consumers)",
            "peer_value": round(self.floor_events_per_s, 1),
            "ratio": round(self.ours_events_per_s / self.floor_events_per_s, 3),
        }


@contextmanager
def scratch_database(settings: Settings) -> Iterator[str]:
    """A throwaway database on the configured server; yields its URL."""
    url, _ = database_url(settings)
    name = f"ai2text_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield conninfo.make_conninfo(url, dbname=name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _bench_settings(url: str, bus: BusSettings) -> Settings:
    return Settings(database_url=url, db_pool_min=1, db_pool_max=3, bus=bus)


def _ours_consumer(url: str, bus: BusSettings, ready: Any, done: MpEvent, counts: Any) -> None:
    from ai2text.bus.bus import open_bus

    settings = _bench_settings(url, bus)
    with open_database(settings, migrate=False) as db:
        worker = open_bus(settings, db).worker(CONSUMER, [EVENT_TYPE], _handle_nothing)
        ready.wait()
        while True:
            if worker.run_once() == 0:
                if done.is_set() and worker.run_once() == 0:
                    break
                time.sleep(0.002)
    counts.put(worker.stats.handled)


def _handle_nothing(event: CloudEvent, conn: Conn) -> None:
    """The bench measures the bus, not a handler."""


def _floor_consumer(url: str, batch: int, ready: Any, done: MpEvent, counts: Any) -> None:
    handled = 0
    with psycopg.connect(url, autocommit=True) as conn:
        ready.wait()
        while True:
            rows = conn.execute(
                "DELETE FROM bench_floor WHERE id IN (SELECT id FROM bench_floor"
                " LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING payload",
                (batch,),
            ).fetchall()
            handled += len(rows)
            if not rows:
                if done.is_set():
                    break
                time.sleep(0.002)
    counts.put(handled)


def _run(target: Any, args: tuple[Any, ...], consumers: int, produce: Any, events: int) -> float:
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(consumers + 1)
    done = ctx.Event()
    counts = ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(*args, ready, done, counts)) for _ in range(consumers)
    ]
    for proc in procs:
        proc.start()
    ready.wait()
    started = time.perf_counter()
    produce()
    done.set()
    handled = sum(counts.get(timeout=600) for _ in procs)
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
    if handled != events:
        raise RuntimeError(f"bench lost events: {handled} of {events} handled")
    return events / elapsed


def bench_bus(
    settings: Settings, *, events: int, consumers: int, batch: int = 200
) -> BusBenchResult:
    """Measure ours and the floor for one consumer count, in a scratch database."""
    bus = BusSettings(batch_size=batch)
    with scratch_database(settings) as url:
        scratch = _bench_settings(url, bus)
        with open_database(scratch) as db:
            from ai2text.bus.bus import open_bus

            open_bus(scratch, db).subscribe(CONSUMER, [EVENT_TYPE])
            with db.connection() as conn:
                conn.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, payload jsonb)")
            ours = _run(
                _ours_consumer,
                (url, bus),
                consumers,
                lambda: _produce_ours(db, events, batch),
                events,
            )
            floor = _run(
                _floor_consumer,
                (url, batch),
                consumers,
                lambda: _produce_floor(db, events, batch),
                events,
            )
    return BusBenchResult(consumers, events, ours, floor)


def _produce_ours(db: Database, events: int, batch: int) -> None:
    from ai2text.bus.postgres import PostgresTransport

    transport = PostgresTransport(db, BusSettings())
    with db.connection() as conn:
        for start in range(0, events, batch):
            chunk = [
                CloudEvent(type=EVENT_TYPE, source="bench", data={"n": n})
                for n in range(start, min(events, start + batch))
            ]
            with conn.transaction():
                transport.publish(conn, chunk)


def _produce_floor(db: Database, events: int, batch: int) -> None:
    from psycopg.types.json import Jsonb

    with db.connection() as conn:
        for start in range(0, events, batch):
            payloads = [Jsonb({"n": n}) for n in range(start, min(events, start + batch))]
            with conn.transaction():
                conn.execute(
                    "INSERT INTO bench_floor (payload) SELECT unnest(%s::jsonb[])", (payloads,)
                )

"""The event bus as the stages see it: publish in your transaction, consume with a Worker.

:func:`open_bus` picks the transport from settings (PostgreSQL by default, NATS JetStream when
``AI2TEXT_BUS__TRANSPORT=nats``). Producers call :meth:`EventBus.publish` with the connection whose
transaction holds their writes; consumers call :meth:`EventBus.worker`, which declares the durable
subscription and returns a :class:`Worker` to run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ai2text.bus.events import CloudEvent
from ai2text.bus.transport import Transport
from ai2text.bus.worker import Handler, Prepare, Worker
from ai2text.config import BusSettings, Settings
from ai2text.errors import InputError
from ai2text.store.database import Conn, Database

_CONSUMER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_STATS = """
SELECT c.consumer,
       count(d.event_id) FILTER (WHERE d.state = 'pending'),
       count(d.event_id) FILTER (WHERE d.state = 'leased'),
       count(d.event_id) FILTER (WHERE d.state = 'dead')
         + (SELECT count(*) FROM bus_dead_letters l WHERE l.consumer = c.consumer),
       (SELECT count(*) FROM bus_processed p WHERE p.consumer = c.consumer),
       coalesce(extract(epoch FROM now() - min(e.time) FILTER (WHERE d.state <> 'dead')), 0)
FROM (SELECT DISTINCT consumer FROM bus_subscriptions) c
LEFT JOIN bus_deliveries d ON d.consumer = c.consumer
LEFT JOIN bus_events e ON e.id = d.event_id
GROUP BY c.consumer
ORDER BY c.consumer
"""


@dataclass(frozen=True)
class ConsumerStats:
    consumer: str
    pending: int
    leased: int
    dead: int
    processed: int
    lag_s: float  # age of the oldest event still waiting or in hand (0 when caught up)


class EventBus:
    def __init__(self, db: Database, transport: Transport, settings: BusSettings) -> None:
        self.db = db
        self.transport = transport
        self.settings = settings

    def publish(self, conn: Conn, *events: CloudEvent) -> None:
        """Publish in the caller's transaction: the events leave only if it commits."""
        self.transport.publish(conn, events)

    def subscribe(self, consumer: str, types: Sequence[str]) -> None:
        if not _CONSUMER.match(consumer):
            raise InputError(f"invalid consumer name {consumer!r}: use [A-Za-z0-9_-], 64 at most")
        if not types:
            raise InputError(f"consumer {consumer} must subscribe to at least one event type")
        with self.db.connection() as conn:
            self.transport.subscribe(conn, consumer, types)

    def worker(
        self,
        consumer: str,
        types: Sequence[str],
        handler: Handler,
        *,
        prepare: Prepare | None = None,
        batch_size: int | None = None,
    ) -> Worker:
        self.subscribe(consumer, types)
        return Worker(
            self.db, self.transport, self.settings, consumer, handler, prepare, batch_size
        )

    def pump(self) -> int:
        """Move committed outbox rows to the transport (a no-op for PostgreSQL)."""
        return self.transport.pump()

    def stats(self) -> list[ConsumerStats]:
        """Per consumer: deliveries waiting, in hand, dead, keys handled and lag (PostgreSQL
        delivery rows; with NATS only processed counts and dead letters are kept here)."""
        with self.db.connection() as conn:
            rows = conn.execute(_STATS).fetchall()
        return [ConsumerStats(r[0], r[1], r[2], r[3], r[4], round(float(r[5]), 3)) for r in rows]

    def close(self) -> None:
        self.transport.close()


def open_bus(settings: Settings, db: Database) -> EventBus:
    transport: Transport
    if settings.bus.transport == "nats":
        from ai2text.bus.nats import NatsTransport

        transport = NatsTransport(db, settings.bus)
    else:
        from ai2text.bus.postgres import PostgresTransport

        transport = PostgresTransport(db, settings.bus)
    return EventBus(db, transport, settings.bus)

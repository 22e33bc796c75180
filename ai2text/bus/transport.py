"""What a bus transport must do, and the pieces every transport shares.

A transport moves events from the outbox (``bus_events``, written in the producer's transaction) to
consumers, and settles each delivery. Handlers always run in a PostgreSQL transaction that also
records the idempotency key, so the effect and "this was handled" commit together whatever the
transport; the transport only decides how a delivery is claimed, kept alive and retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from psycopg.types.json import Jsonb

from ai2text.bus.events import CloudEvent
from ai2text.config import BusSettings
from ai2text.store.database import Conn


@dataclass(frozen=True)
class Delivery:
    """An event claimed by one consumer; ``attempts`` counts this one."""

    event: CloudEvent
    attempts: int
    handle: Any = None


@dataclass(frozen=True)
class Failure:
    delivery: Delivery
    error: str
    dead: bool
    retry_in_s: float


class Transport(Protocol):
    name: str

    def subscribe(self, conn: Conn, consumer: str, types: Sequence[str]) -> None:
        """Declare a durable subscription; events published afterwards reach ``consumer``."""
        ...

    def publish(self, conn: Conn, events: Sequence[CloudEvent]) -> None:
        """Write events in the caller's transaction; they leave only if it commits."""
        ...

    def claim(self, consumer: str, owner: str, limit: int) -> list[Delivery]:
        """Lease up to ``limit`` deliveries for ``owner``; may return none."""
        ...

    def extend(self, consumer: str, owner: str, deliveries: Sequence[Delivery]) -> None:
        """Heartbeat: keep the leases of deliveries still being handled."""
        ...

    def settle(
        self,
        conn: Conn,
        consumer: str,
        owner: str,
        done: Sequence[Delivery],
        failed: Sequence[Failure],
    ) -> None:
        """Record outcomes inside the handler's transaction."""
        ...

    def after_commit(self, done: Sequence[Delivery], failed: Sequence[Failure]) -> None:
        """Tell the transport after the handler's transaction committed."""
        ...

    def pump(self) -> int:
        """Move committed outbox rows to the transport; return how many moved."""
        ...

    def close(self) -> None: ...


EVENT_COLUMNS = "id, type, source, subject, time, datacontenttype, idempotency_key, data"
"""The ``bus_events`` columns :func:`event_from_row` reads, in its order."""


def event_from_row(row: Sequence[Any]) -> CloudEvent:
    """A CloudEvent from ``bus_events`` columns selected as :data:`EVENT_COLUMNS`."""
    return CloudEvent(
        id=str(row[0]),
        type=row[1],
        source=row[2],
        subject=row[3],
        time=row[4],
        datacontenttype=row[5],
        idempotencykey=row[6],
        data=row[7],
    )


def record_subscription(conn: Conn, consumer: str, types: Sequence[str]) -> None:
    """Remember a consumer's event types (PostgreSQL fans out by them; stats list them)."""
    with conn.transaction():
        conn.cursor().executemany(
            "INSERT INTO bus_subscriptions (consumer, event_type) VALUES (%s, %s)"
            " ON CONFLICT DO NOTHING",
            [(consumer, t) for t in types],
        )


def backoff_seconds(settings: BusSettings, attempts: int) -> float:
    """Exponential backoff after the ``attempts``-th failure, capped."""
    return float(
        min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(0, attempts - 1))
    )


def insert_outbox(conn: Conn, events: Sequence[CloudEvent], *, relayed: bool) -> None:
    """Write events to ``bus_events`` in one statement; ``relayed`` when no relay is needed."""
    if not events:
        return
    conn.execute(
        "INSERT INTO bus_events (id, type, source, subject, time, datacontenttype,"
        " idempotency_key, data, relayed_at)"
        " SELECT e.id, e.type, e.source, e.subject, e.time, e.ct, e.key, e.data,"
        " CASE WHEN %s THEN now() END"
        " FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::timestamptz[],"
        " %s::text[], %s::text[], %s::jsonb[])"
        " AS e(id, type, source, subject, time, ct, key, data)",
        (
            relayed,
            [e.id for e in events],
            [e.type for e in events],
            [e.source for e in events],
            [e.subject for e in events],
            [e.time for e in events],
            [e.datacontenttype for e in events],
            [e.idempotency_key for e in events],
            [Jsonb(dict(e.data)) for e in events],
        ),
    )


def mark_processed(conn: Conn, consumer: str, deliveries: Sequence[Delivery]) -> set[str]:
    """Record idempotency keys; return the event ids whose key was new (to be handled now).

    A concurrent transaction recording the same key blocks here until it commits or rolls back,
    so two consumers can never both handle one key.
    """
    if not deliveries:
        return set()
    rows = conn.execute(
        "INSERT INTO bus_processed (consumer, idempotency_key, event_id)"
        " SELECT %s, k, e FROM unnest(%s::text[], %s::uuid[]) AS t(k, e)"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        (
            consumer,
            [d.event.idempotency_key for d in deliveries],
            [d.event.id for d in deliveries],
        ),
    ).fetchall()
    return {str(r[0]) for r in rows}

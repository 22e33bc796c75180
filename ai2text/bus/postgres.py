"""The default bus transport: a queue in the metadata PostgreSQL.

Publishing fans each event out to one ``bus_deliveries`` row per subscribed consumer, in the
producer's transaction (the outbox and the queue are the same commit). Consumers claim batches
with ``FOR UPDATE SKIP LOCKED``, so any number of them share a consumer name without blocking each
other. A claim is a lease: ``available_at`` moves to the end of the lease and a heartbeat pushes it
on; a consumer that dies simply stops pushing and its deliveries become claimable again. A delivery
whose final attempt was lost that way goes to the dead state like one that failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from ai2text.bus.events import CloudEvent
from ai2text.bus.transport import (
    EVENT_COLUMNS,
    Delivery,
    Failure,
    event_from_row,
    insert_outbox,
    record_subscription,
)
from ai2text.config import BusSettings
from ai2text.store.database import Conn, Database

_CLAIM = """
WITH picked AS (
    SELECT event_id FROM bus_deliveries
    WHERE consumer = %(consumer)s AND state <> 'dead' AND available_at <= now()
      AND attempts < %(max_attempts)s
    ORDER BY available_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE bus_deliveries d
SET state = 'leased', lease_owner = %(owner)s, attempts = d.attempts + 1,
    available_at = now() + %(lease)s
FROM picked, bus_events e
WHERE d.consumer = %(consumer)s AND d.event_id = picked.event_id AND e.id = d.event_id
RETURNING d.attempts, {columns}
""".format(columns=", ".join(f"e.{c}" for c in EVENT_COLUMNS.split(", ")))

# A leased delivery whose lease ran out on its final attempt: its consumer died handling it.
_BURY_LOST = """
UPDATE bus_deliveries
SET state = 'dead', lease_owner = NULL,
    last_error = coalesce(last_error || '; ', '') || 'consumer lost the lease on the final attempt'
WHERE consumer = %(consumer)s AND state = 'leased' AND available_at <= now()
  AND attempts >= %(max_attempts)s
"""


class PostgresTransport:
    name = "postgres"

    def __init__(self, db: Database, settings: BusSettings) -> None:
        self.db = db
        self.settings = settings
        self.lease = timedelta(seconds=settings.lease_seconds)

    def subscribe(self, conn: Conn, consumer: str, types: Sequence[str]) -> None:
        record_subscription(conn, consumer, types)

    def publish(self, conn: Conn, events: Sequence[CloudEvent]) -> None:
        if not events:
            return
        insert_outbox(conn, events, relayed=True)
        conn.execute(
            "INSERT INTO bus_deliveries (consumer, event_id)"
            " SELECT s.consumer, e.id FROM unnest(%s::uuid[], %s::text[]) AS e(id, type)"
            " JOIN bus_subscriptions s ON s.event_type = e.type",
            ([e.id for e in events], [e.type for e in events]),
        )

    def claim(self, consumer: str, owner: str, limit: int) -> list[Delivery]:
        params = {
            "consumer": consumer,
            "owner": owner,
            "limit": limit,
            "lease": self.lease,
            "max_attempts": self.settings.max_attempts,
        }
        with self.db.connection() as conn, conn.transaction():
            conn.execute(_BURY_LOST, params)
            rows = conn.execute(_CLAIM, params).fetchall()
        return [Delivery(event_from_row(r[1:]), attempts=r[0]) for r in rows]

    def extend(self, consumer: str, owner: str, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE bus_deliveries SET available_at = now() + %s"
                " WHERE consumer = %s AND lease_owner = %s AND state = 'leased'"
                " AND event_id = ANY(%s::uuid[])",
                (self.lease, consumer, owner, [d.event.id for d in deliveries]),
            )

    def settle(
        self,
        conn: Conn,
        consumer: str,
        owner: str,
        done: Sequence[Delivery],
        failed: Sequence[Failure],
    ) -> None:
        if done:
            conn.execute(
                "DELETE FROM bus_deliveries WHERE consumer = %s AND event_id = ANY(%s::uuid[])",
                (consumer, [d.event.id for d in done]),
            )
        if failed:
            conn.cursor().executemany(
                "UPDATE bus_deliveries SET state = %s, lease_owner = NULL, last_error = %s,"
                " available_at = now() + %s"
                " WHERE consumer = %s AND event_id = %s AND lease_owner = %s",
                [
                    (
                        "dead" if f.dead else "pending",
                        f.error,
                        timedelta(seconds=f.retry_in_s),
                        consumer,
                        f.delivery.event.id,
                        owner,
                    )
                    for f in failed
                ],
            )

    def after_commit(self, done: Sequence[Delivery], failed: Sequence[Failure]) -> None:
        """Nothing to do: the outcome committed with the handler's transaction."""

    def pump(self) -> int:
        """Nothing to move: publishing already queued the deliveries."""
        return 0

    def close(self) -> None:
        """The database belongs to the caller."""

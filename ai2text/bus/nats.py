"""The NATS JetStream transport, behind the same interface as the PostgreSQL queue.

Producers still write to the outbox table in their transaction; :meth:`NatsTransport.pump` relays
committed rows to the stream with ``Nats-Msg-Id`` set to the event id, so a relay that dies after
publishing and before marking the rows is deduplicated by JetStream (and, past its window, by the
consumers' idempotency keys). Subjects are ``<stream>.events.<type>``; each (consumer, event
type) is a durable pull consumer with explicit acks: a killed consumer's messages come back after
``ack_wait`` (the lease), the heartbeat sends ``in_progress``, failures are nak'ed with backoff,
and dead letters are recorded in PostgreSQL and terminated. nats-py is asyncio; a private event
loop thread gives the rest of ai2text a sync API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from psycopg.types.json import Jsonb

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
from ai2text.errors import BusError
from ai2text.store.database import Conn, Database

T = TypeVar("T")
_FETCH_WAIT_S = 0.05
_CALL_TIMEOUT_S = 30.0


def subject_prefix(stream: str) -> str:
    """Subjects of a stream's events: ``ai2text.events.<type>`` for the default stream."""
    return f"{stream.lower()}.events."


def durable_name(consumer: str, event_type: str) -> str:
    """JetStream consumer names may not hold dots."""
    return f"{consumer}-{event_type.replace('.', '_')}"


class NatsTransport:
    name = "nats"

    def __init__(self, db: Database, settings: BusSettings) -> None:
        import nats

        self.db = db
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="nats-loop", daemon=True
        )
        self._thread.start()
        self._subs: dict[str, list[Any]] = {}
        self._prefix = subject_prefix(settings.nats_stream)
        try:
            self._nc = self._call(
                nats.connect(settings.nats_url, connect_timeout=5, max_reconnect_attempts=3)
            )
            self._js = self._nc.jetstream()
            self._call(self._ensure_stream())
        except BusError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise BusError(f"cannot reach NATS JetStream at {settings.nats_url}: {exc}") from exc

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_CALL_TIMEOUT_S)

    async def _ensure_stream(self) -> None:
        from nats.js.api import StorageType, StreamConfig
        from nats.js.errors import NotFoundError

        config = StreamConfig(
            name=self.settings.nats_stream,
            subjects=[self._prefix + ">"],
            storage=StorageType.FILE,
            duplicate_window=120.0,
        )
        try:
            await self._js.stream_info(self.settings.nats_stream)
        except NotFoundError:
            await self._js.add_stream(config)

    def subscribe(self, conn: Conn, consumer: str, types: Sequence[str]) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        record_subscription(conn, consumer, types)

        async def pull(event_type: str) -> Any:
            return await self._js.pull_subscribe(
                self._prefix + event_type,
                durable=durable_name(consumer, event_type),
                stream=self.settings.nats_stream,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.settings.lease_seconds,
                    deliver_policy=DeliverPolicy.NEW,
                    max_deliver=-1,
                    max_ack_pending=10_000,
                ),
            )

        self._subs[consumer] = [self._call(pull(t)) for t in types]

    def publish(self, conn: Conn, events: Sequence[CloudEvent]) -> None:
        insert_outbox(conn, events, relayed=False)

    def pump(self, limit: int = 500) -> int:
        with self.db.connection() as conn, conn.transaction():
            rows = conn.execute(
                f"SELECT {EVENT_COLUMNS}"
                " FROM bus_events WHERE relayed_at IS NULL ORDER BY created_at LIMIT %s"
                " FOR UPDATE SKIP LOCKED",
                (limit,),
            ).fetchall()
            if not rows:
                return 0
            events = [event_from_row(r) for r in rows]
            self._call(self._publish_all(events))
            conn.execute(
                "UPDATE bus_events SET relayed_at = now() WHERE id = ANY(%s::uuid[])",
                ([e.id for e in events],),
            )
        return len(events)

    async def _publish_all(self, events: Sequence[CloudEvent]) -> None:
        await asyncio.gather(
            *(
                self._js.publish(
                    self._prefix + e.type,
                    json.dumps(e.to_json()).encode(),
                    stream=self.settings.nats_stream,
                    headers={"Nats-Msg-Id": e.id},
                )
                for e in events
            )
        )

    def claim(self, consumer: str, owner: str, limit: int) -> list[Delivery]:
        from nats.errors import TimeoutError as NatsTimeout

        subs = self._subs.get(consumer)
        if not subs:
            raise BusError(f"consumer {consumer} has not subscribed in this process")

        async def fetch_all() -> list[Any]:
            got: list[Any] = []
            for sub in subs:
                if len(got) >= limit:
                    break
                try:
                    got.extend(await sub.fetch(limit - len(got), timeout=_FETCH_WAIT_S))
                except (NatsTimeout, TimeoutError):
                    continue  # nothing waiting on this subject; nats-py raises either kind
            return got

        deliveries = []
        lost = []
        for msg in self._call(fetch_all()):
            delivery = Delivery(
                CloudEvent.from_json(json.loads(msg.data)), msg.metadata.num_delivered, msg
            )
            if delivery.attempts > self.settings.max_attempts:
                lost.append(
                    Failure(delivery, "consumer lost the lease on the final attempt", True, 0.0)
                )
            else:
                deliveries.append(delivery)
        if lost:
            with self.db.connection() as conn, conn.transaction():
                self.settle(conn, consumer, owner, [], lost)
            self.after_commit([], lost)
        return deliveries

    def extend(self, consumer: str, owner: str, deliveries: Sequence[Delivery]) -> None:
        async def touch() -> None:
            await asyncio.gather(*(d.handle.in_progress() for d in deliveries))

        self._call(touch())

    def settle(
        self,
        conn: Conn,
        consumer: str,
        owner: str,
        done: Sequence[Delivery],
        failed: Sequence[Failure],
    ) -> None:
        dead = [f for f in failed if f.dead]
        if dead:
            conn.cursor().executemany(
                "INSERT INTO bus_dead_letters (consumer, event_id, attempts, last_error, event)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (consumer, event_id) DO UPDATE"
                " SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error",
                [
                    (
                        consumer,
                        f.delivery.event.id,
                        f.delivery.attempts,
                        f.error,
                        Jsonb(f.delivery.event.to_json()),
                    )
                    for f in dead
                ],
            )

    def after_commit(self, done: Sequence[Delivery], failed: Sequence[Failure]) -> None:
        async def tell() -> None:
            acks = [d.handle.ack() for d in done]
            for f in failed:
                if f.dead:
                    acks.append(f.delivery.handle.term())
                else:
                    acks.append(f.delivery.handle.nak(delay=f.retry_in_s))
            await asyncio.gather(*acks)

        self._call(tell())

    def close(self) -> None:
        if getattr(self, "_nc", None) is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):  # the connection may already have failed
                self._call(self._nc.close())

        async def cancel_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        self._call(cancel_rest())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

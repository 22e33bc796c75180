"""A consumer: claims deliveries, runs the handler, settles, with a heartbeat while it works.

Each batch first runs in one transaction: idempotency keys, every handler's writes and the
acknowledgements commit together, so a process killed at any line loses and repeats nothing
(the leases run out and the batch is redelivered; keys already committed are skipped). If a
handler raises, that transaction rolls back, the failing event is settled as failed (retried with
backoff or, after ``max_attempts``, dead-lettered with its last error) and the rest of the batch is
replayed one event per transaction. Each attempt calls the handler once for the failing event.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ai2text.bus.events import CloudEvent
from ai2text.bus.transport import Delivery, Failure, Transport, backoff_seconds, mark_processed
from ai2text.config import BusSettings
from ai2text.store.database import Conn, Database

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent, Conn], None]
"""Handles one event inside the given transaction; raise to fail it (it will be retried)."""
Prepare = Callable[[Sequence[CloudEvent]], None]
"""Sees a claimed batch before its transaction opens (to batch slow work such as inference);
the handler must still work alone, for what ``prepare`` skipped or could not do."""


@dataclass
class WorkerStats:
    handled: int = 0
    skipped_duplicates: int = 0
    failed: int = 0
    dead: int = 0


class _Heartbeat:
    """Extends the leases of the batch in hand every third of the lease."""

    def __init__(self, worker: Worker, deliveries: Sequence[Delivery]) -> None:
        self.worker = worker
        self.deliveries = deliveries
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bus-heartbeat", daemon=True)

    def _run(self) -> None:
        interval = self.worker.settings.lease_seconds / 3
        while not self.stop.wait(interval):
            try:
                self.worker.transport.extend(
                    self.worker.consumer, self.worker.owner, self.deliveries
                )
            except Exception:
                log.exception("heartbeat for %s failed", self.worker.consumer)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


class Worker:
    """Runs ``handler`` for every event delivered to ``consumer``."""

    def __init__(
        self,
        db: Database,
        transport: Transport,
        settings: BusSettings,
        consumer: str,
        handler: Handler,
        prepare: Prepare | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.db = db
        self.transport = transport
        self.settings = settings
        self.consumer = consumer
        self.handler = handler
        self.prepare = prepare
        self.batch_size = batch_size or settings.batch_size
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stats = WorkerStats()

    def run_once(self, limit: int | None = None) -> int:
        """Claim and handle one batch; return how many deliveries it held."""
        batch = self.transport.claim(self.consumer, self.owner, limit or self.batch_size)
        if not batch:
            return 0
        with _Heartbeat(self, batch):
            if self.prepare is not None:
                try:
                    self.prepare([d.event for d in batch])
                except Exception:
                    log.exception("%s: a batch's preparation failed", self.consumer)
            broken = self._handle_together(batch)
            if broken is not None:
                self._handle_one_by_one(batch, broken)
        return len(batch)

    def run(self, stop: threading.Event, idle_wait_s: float = 0.05) -> None:
        """Handle batches until ``stop`` is set, waiting briefly whenever the queue is empty."""
        while not stop.is_set():
            self.transport.pump()
            if self.run_once() == 0:
                stop.wait(idle_wait_s)

    def _handle_together(self, batch: Sequence[Delivery]) -> tuple[Delivery, Exception] | None:
        """One transaction for the batch; on a handler error, roll back and name the culprit."""
        current: Delivery | None = None
        try:
            with self.db.connection() as conn:
                with conn.transaction():
                    fresh = mark_processed(conn, self.consumer, batch)
                    for current in batch:
                        if current.event.id in fresh:
                            self.handler(current.event, conn)
                    current = None
                    self.transport.settle(conn, self.consumer, self.owner, batch, [])
                self.transport.after_commit(batch, [])
        except Exception as exc:
            if current is None:
                raise
            log.debug("batch of %d rolled back at %s", len(batch), current.event.id)
            return current, exc
        self.stats.handled += len(fresh)
        self.stats.skipped_duplicates += len(batch) - len(fresh)
        return None

    def _handle_one_by_one(
        self, batch: Sequence[Delivery], broken: tuple[Delivery, Exception]
    ) -> None:
        """Replay a rolled-back batch one transaction per event; the culprit is failed as is."""
        culprit, culprit_error = broken
        with self.db.connection() as conn:
            for delivery in batch:
                try:
                    if delivery is culprit:
                        raise culprit_error
                    with conn.transaction():
                        fresh = mark_processed(conn, self.consumer, [delivery])
                        if fresh:
                            self.handler(delivery.event, conn)
                        self.transport.settle(conn, self.consumer, self.owner, [delivery], [])
                except Exception as exc:
                    failure = self._failure(delivery, exc)
                    with conn.transaction():
                        self.transport.settle(conn, self.consumer, self.owner, [], [failure])
                    self.transport.after_commit([], [failure])
                    continue
                self.transport.after_commit([delivery], [])
                if fresh:
                    self.stats.handled += 1
                else:
                    self.stats.skipped_duplicates += 1

    def _failure(self, delivery: Delivery, exc: Exception) -> Failure:
        dead = delivery.attempts >= self.settings.max_attempts
        error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        self.stats.failed += 1
        self.stats.dead += int(dead)
        log.warning(
            "%s: event %s (%s) failed on attempt %d%s: %s",
            self.consumer,
            delivery.event.id,
            delivery.event.type,
            delivery.attempts,
            ", dead-lettered" if dead else "",
            error,
        )
        return Failure(delivery, error, dead, backoff_seconds(self.settings, delivery.attempts))

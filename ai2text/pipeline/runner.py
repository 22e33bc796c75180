"""The pipeline as one set of threads: stage workers, the hot folder, the training loop.

``ai2text serve`` runs it in its driver with ASR and embeddings through the Serve deployment
handles (pipeline requests batch with online traffic); ``ai2text pipeline run`` runs it in one
process with the in-process Transcriber and embedder. Every consumer subscribes before the hot
folder is first read, so no event is published before its consumers exist.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from ai2text.bus.bus import EventBus
from ai2text.bus.events import (
    DATASET_READY,
    EMBEDDINGS_INDEXED,
    NLP_POSTPROCESSED,
    RECORDING_INGESTED,
    TRAINING_REQUESTED,
    TRANSCRIPTION_COMPLETED,
    CloudEvent,
)
from ai2text.bus.worker import Worker
from ai2text.config import Settings
from ai2text.pipeline.stages import TranscribeMany
from ai2text.registry.registry import ModelRegistry
from ai2text.search.embedder import Embed
from ai2text.store.blobs import BlobStore
from ai2text.store.database import Conn
from ai2text.store.vectors import VectorStore

if TYPE_CHECKING:
    from ai2text.pipeline.hot_folder import HotFolder

log = logging.getLogger(__name__)

STAGES = ("transcribe", "postprocess", "index", "datasets", "trainer")
TRANSCRIBE_BATCH = 16


@dataclass(frozen=True)
class Engines:
    """What does the heavy lifting: ASR over a batch, the model version it serves, embeddings."""

    transcribe: TranscribeMany
    version: Callable[[], str]
    embed: Embed


def training_request(trigger: str, actor: str, key: str | None = None) -> CloudEvent:
    return CloudEvent(
        type=TRAINING_REQUESTED,
        source="ai2text/pipeline",
        data={"trigger": trigger, "actor": actor},
        idempotencykey=f"{TRAINING_REQUESTED}:{key}" if key else None,
    )


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        bus: EventBus,
        blobs: BlobStore,
        vectors: VectorStore,
        engines: Engines,
        *,
        hot_folder: bool | None = None,
        training: bool = True,
    ) -> None:
        from ai2text.pipeline.loop import selection
        from ai2text.pipeline.stages import (
            DatasetStage,
            IndexStage,
            PostprocessStage,
            TranscribeStage,
        )
        from ai2text.search.index import COLLECTION

        self.settings = settings
        self.registry = registry
        self.bus = bus
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.training = training
        (probe,) = engines.embed(["xin chào"])
        vectors.ensure_collection(COLLECTION, len(probe))
        transcribe = TranscribeStage(engines.transcribe, engines.version, blobs, bus)
        index = IndexStage(vectors, engines.embed, bus)
        self.workers: list[Worker] = [
            bus.worker(
                "transcribe",
                [RECORDING_INGESTED],
                transcribe.handle,
                prepare=transcribe.prepare,
                batch_size=TRANSCRIBE_BATCH,
            ),
            bus.worker(
                "postprocess",
                [TRANSCRIPTION_COMPLETED],
                PostprocessStage(blobs, bus, settings.text).handle,
            ),
            bus.worker("index", [NLP_POSTPROCESSED], index.handle, prepare=index.prepare),
            bus.worker(
                "datasets",
                [EMBEDDINGS_INDEXED],
                DatasetStage(
                    bus, selection(settings), settings.pipeline.dataset_ready_hours
                ).handle,
            ),
        ]
        if training:
            self.workers.append(
                bus.worker("trainer", [DATASET_READY, TRAINING_REQUESTED], self._on_trigger)
            )
        watch = settings.pipeline.watch_hot_folder if hot_folder is None else hot_folder
        self.hot_folder = self._hot_folder(blobs) if watch else None

    def _hot_folder(self, blobs: BlobStore) -> HotFolder:
        from ai2text.pipeline.hot_folder import HotFolder
        from ai2text.pipeline.intake import intake_ingest

        settings = self.settings
        ingest = intake_ingest(self.registry.db, blobs, self.bus, settings.audio, "hot_folder")
        folder = settings.hot_folder_dir
        folder.mkdir(parents=True, exist_ok=True)
        return HotFolder(
            folder,
            ingest,
            stable_s=settings.pipeline.hot_folder_stable_s,
            max_bytes=settings.audio.max_input_bytes,
        )

    def _on_trigger(self, event: CloudEvent, conn: Conn) -> None:
        from ai2text.pipeline.loop import TRIGGERS, request_training

        data = event.data or {}
        named = "dataset.ready" if event.type == DATASET_READY else str(data.get("trigger"))
        trigger = next((t for t in TRIGGERS if t == named), None)
        if trigger is None:
            log.warning("ignoring a training request with trigger %r", named)
            return
        decision = request_training(
            conn, self.settings, trigger, actor=str(data.get("actor") or "system:pipeline"),
            request_id=event.idempotency_key,
        )  # fmt: skip
        log.info("training trigger %s: %s", trigger, decision.reason)

    def start(self) -> None:
        from ai2text.pipeline.loop import abandon_interrupted

        if self.training:
            with self.registry.db.connection() as conn:
                abandon_interrupted(conn)
        for worker in self.workers:
            self._spawn(f"stage-{worker.consumer}", partial(worker.run, self.stop_event))
        if self.hot_folder is not None:
            self._spawn("hot-folder", self._watch)
        if self.training:
            self._spawn("trainer", self._train)
            if self.settings.pipeline.train_daily_at:
                self._spawn("schedule", self._schedule)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        def guarded() -> None:
            while not self.stop_event.is_set():
                try:
                    target()
                    return
                except Exception:
                    log.exception("pipeline thread %s failed; restarting in 5 s", name)
                    self.stop_event.wait(5.0)

        thread = threading.Thread(target=guarded, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _watch(self) -> None:
        poll = self.settings.pipeline.hot_folder_poll_s
        while not self.stop_event.is_set():
            assert self.hot_folder is not None
            for outcome in self.hot_folder.poll():
                log.info("hot folder: %s", outcome)
            self.stop_event.wait(poll)

    def _train(self) -> None:
        from ai2text.pipeline.loop import run_next

        work = self.settings.home / "runs"
        while not self.stop_event.is_set():
            report = run_next(self.registry, self.bus, self.settings, work)
            if report is not None:
                log.info("training run %s: %s (%s)", report.run, report.outcome, report.reason)
            else:
                self.stop_event.wait(2.0)

    def _schedule(self) -> None:
        at = self.settings.pipeline.train_daily_at
        assert at is not None
        hour, minute = (int(part) for part in at.split(":"))
        while not self.stop_event.is_set():
            now = datetime.now(UTC)
            due = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if due <= now:
                due += timedelta(days=1)
            if self.stop_event.wait((due - now).total_seconds()):
                return
            with self.registry.db.connection() as conn:
                # one request per day, however many drivers run the schedule
                self.bus.publish(
                    conn, training_request("schedule", "system:schedule", due.date().isoformat())
                )

    def stop(self, timeout_s: float = 30.0) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + timeout_s
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

"""A consumer SIGKILLed in the middle of a handler loses and repeats nothing (both transports)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ai2text.bus.bus import EventBus
from ai2text.config import Settings
from ai2text.store.database import Database
from tests.conftest import REPO
from tests.integration.bus.conftest import EVENT, effects, publish

EVENTS = 250


def consumer(settings: Settings, tmp_path: Path, **extra: object) -> subprocess.Popen[bytes]:
    config = {
        "settings": json.loads(settings.model_dump_json(exclude_unset=False, round_trip=True)),
        "expected": EVENTS,
        "event_type": EVENT,
        **extra,
    }
    config["settings"]["database_url"] = settings.database_url.get_secret_value()  # type: ignore[union-attr]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.bus.crash_consumer", json.dumps(config)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


@pytest.mark.integration
def test_sigkill_mid_handler_loses_and_repeats_nothing(
    bus: EventBus, db: Database, bus_settings: Settings, tmp_path: Path
) -> None:
    bus.subscribe("crash", [EVENT])
    events = publish(bus, db, EVENTS)

    ready = tmp_path / "stalled"
    doomed = consumer(bus_settings, tmp_path, stall_at=100, ready_file=str(ready))
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert doomed.poll() is None, "the consumer exited before stalling"
        assert time.monotonic() < deadline, "the consumer never reached its stall point"
        time.sleep(0.02)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(10)

    committed = effects(db)
    # the handler that stalled, and the rest of its batch, wrote effects that were never committed
    assert len(committed) < 100

    survivor = consumer(bus_settings, tmp_path)
    assert survivor.wait(120) == 0
    final = effects(db)
    assert final == {e.id: 1 for e in events}
    (stat,) = [s for s in bus.stats() if s.consumer == "crash"]
    assert (stat.pending, stat.leased, stat.dead, stat.processed) == (0, 0, 0, EVENTS)

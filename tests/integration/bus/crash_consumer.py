"""A consumer process for the crash test: ``python -m tests.integration.bus.crash_consumer CONFIG``.

CONFIG is JSON with the settings, the number of events the run expects, and, for the process to
be killed, ``stall_at``: after starting that many handlers it writes ``ready_file`` and stalls
inside the handler until it is SIGKILLed, with the rest of its batch uncommitted.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ai2text.bus.bus import open_bus
from ai2text.bus.events import CloudEvent
from ai2text.config import Settings
from ai2text.store.database import Conn, open_database


def main() -> None:
    config = json.loads(sys.argv[1])
    settings = Settings.model_validate(config["settings"])
    expected: int = config["expected"]
    stall_at: int | None = config.get("stall_at")
    started = 0

    def handler(event: CloudEvent, conn: Conn) -> None:
        nonlocal started
        conn.execute(
            "INSERT INTO effects VALUES (%s, 1)"
            " ON CONFLICT (event_id) DO UPDATE SET n = effects.n + 1",
            (event.id,),
        )
        started += 1
        if stall_at is not None and started >= stall_at:
            Path(config["ready_file"]).write_text(str(started))
            time.sleep(3600)

    with open_database(settings, migrate=False) as db:
        bus = open_bus(settings, db)
        worker = bus.worker("crash", [config["event_type"]], handler)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            worker.run_once()
            with db.connection() as conn:
                row = conn.execute("SELECT count(*) FROM effects").fetchone()
            if row is not None and row[0] >= expected:
                break
            time.sleep(0.02)
        bus.close()


if __name__ == "__main__":
    main()

"""What the pipeline is doing, from the database: per-stage queues, lag and dead letters (from
:meth:`EventBus.stats`), the collected hours and the training loop's recent runs.
``ai2text pipeline status`` prints it and the ingress exports it in ``/metrics``."""

from __future__ import annotations

from typing import Any

from ai2text.bus.bus import EventBus

_RUNS = """
SELECT name, status, coalesce(config->>'trigger', ''), model_version,
       coalesce(metrics->>'outcome', ''), coalesce(metrics->>'reason', error, ''),
       created_at, finished_at
FROM training_runs ORDER BY created_at DESC LIMIT 5
"""


def pipeline_status(bus: EventBus) -> dict[str, Any]:
    stages = bus.stats()
    with bus.db.connection() as conn:
        progress = conn.execute(
            "SELECT crossings, hours, updated_at FROM dataset_progress"
        ).fetchone()
        runs = conn.execute(_RUNS).fetchall()
        documents = conn.execute("SELECT count(*) FROM search_documents").fetchone()
        recordings = conn.execute("SELECT count(*) FROM audio").fetchone()
    return {
        "stages": {
            s.consumer: {
                "queued": s.pending,
                "in_flight": s.leased,
                "dead_letters": s.dead,
                "processed": s.processed,
                "lag_s": s.lag_s,
            }
            for s in stages
        },
        "recordings": int(recordings[0]) if recordings else 0,
        "indexed": int(documents[0]) if documents else 0,
        "datasets": {
            "hours": progress[1] if progress else {},
            "ready_announced": int(progress[0]) if progress else 0,
        },
        "training_runs": [
            {
                "name": r[0],
                "status": r[1],
                "trigger": r[2],
                "model_version": r[3],
                "outcome": r[4],
                "reason": r[5],
                "created_at": r[6].isoformat(),
                "finished_at": r[7].isoformat() if r[7] else None,
            }
            for r in runs
        ],
    }

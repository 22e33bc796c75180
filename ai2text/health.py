"""The state of every component the platform needs, for ``ai2text doctor`` and ``/health``.

Each check really uses its component (a query, a blob round trip, a vector-store call, a bus
statistics read, the production model's file checked, ffmpeg run, espeak-ng speaking each
Vietnamese voice, Ray Train importable) and, when broken, says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ai2text.config import Settings
from ai2text.errors import Ai2TextError, NotFoundError


@dataclass(frozen=True)
class ComponentState:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _safe(name: str, check: Callable[[], str], fix: str) -> ComponentState:
    try:
        return ComponentState(name, True, check())
    except Ai2TextError as exc:
        return ComponentState(name, False, f"{exc.message}; {fix}")
    except Exception as exc:
        return ComponentState(name, False, f"{type(exc).__name__}: {exc}; {fix}")


def check_components(settings: Settings) -> list[ComponentState]:
    """Check database, blobs, vectors, bus, model, ffmpeg, espeak-ng and ray."""
    from ai2text.store.blobs import open_blob_store
    from ai2text.store.database import Database, open_database

    states: list[ComponentState] = []
    db: Database | None = None

    def database() -> str:
        nonlocal db
        from ai2text.store.migrations import schema_version

        db = open_database(settings)
        with db.connection() as conn:
            row = conn.execute("SHOW server_version").fetchone()
            version = schema_version(conn)
        where = f"embedded in {settings.pgdata_dir}" if db.embedded else "external"
        return f"PostgreSQL {row[0] if row else '?'} ({where}), schema version {version}"

    states.append(
        _safe(
            "database",
            database,
            "set AI2TEXT_DATABASE_URL to a reachable PostgreSQL 16 with pgvector, or unset it to "
            "use the embedded server under AI2TEXT_HOME",
        )
    )
    states.append(
        _safe(
            "blobs",
            lambda: open_blob_store(settings).check(),
            "check AI2TEXT_BLOB_ROOT is writable, or the AI2TEXT_S3__* bucket, endpoint and keys",
        )
    )
    if db is None:
        states.append(ComponentState("vectors", False, "needs the database; fix it first"))
        states.append(ComponentState("bus", False, "needs the database; fix it first"))
        return states
    opened: Database = db
    try:
        states.append(_safe("vectors", lambda: _vectors(settings, opened), _VECTOR_FIX))
        states.append(_safe("bus", lambda: _bus(settings, opened), _BUS_FIX))
        states.append(_safe("model", lambda: _model(settings, opened), _MODEL_FIX))
    finally:
        opened.close()
    states.append(_safe("ffmpeg", lambda: _ffmpeg(settings), _FFMPEG_FIX))
    states.append(_safe("espeak-ng", _espeak, _ESPEAK_FIX))
    states.append(_safe("ray", _ray, _RAY_FIX))
    return states


_VECTOR_FIX = (
    "for pgvector the metadata database needs the vector extension; for Qdrant check "
    "AI2TEXT_QDRANT_URL and AI2TEXT_QDRANT_API_KEY"
)
_BUS_FIX = (
    "for the PostgreSQL transport the database must be migrated (ai2text db migrate); for NATS "
    "start nats-server with -js and check AI2TEXT_BUS__NATS_URL"
)


_MODEL_FIX = (
    "import a .nemo (ai2text models import PATH) and promote it (ai2text models promote VERSION), "
    "or adopt the bundled bootstrap model (ai2text models bootstrap)"
)
_FFMPEG_FIX = (
    "install the imageio-ffmpeg wheel or a system ffmpeg, or set AI2TEXT_AUDIO__FFMPEG_PATH"
)
_ESPEAK_FIX = "install the espeakng-loader wheel or Debian's espeak-ng"
_RAY_FIX = "install the train extra (make test or pip install -e '.[train]')"


def _ray() -> str:
    """Ray importable with Train; a local cluster starts per run unless RAY_ADDRESS names one."""
    import importlib.metadata
    import os

    import ray.train.torch  # noqa: F401 - importing is the check

    address = os.environ.get("RAY_ADDRESS")
    where = f"cluster at {address}" if address else "local cluster started per run"
    return f"ray {importlib.metadata.version('ray')} with Ray Train ({where})"


def _model(settings: Settings, db: Any) -> str:
    from ai2text.asr.archive import inspect_archive
    from ai2text.registry.registry import ModelRegistry

    registry = ModelRegistry.from_settings(db, settings)
    production = registry.production()
    if production is None:
        if registry.bootstrap is None or not registry.auto_bootstrap:
            raise NotFoundError("no production model")
        return (
            f"no production model yet: the bundled {registry.bootstrap.version} becomes production"
            " on first use (ai2text models bootstrap)"
        )
    listing = inspect_archive(registry.fetch(production.version))
    size = (
        f"{production.parameters / 1e6:.1f} M parameters"
        if production.parameters
        else "size unknown"
    )
    return (
        f"{production.version} ({production.preset or production.kind}, {size}, "
        f"{len(listing.names)} files, SHA-256 checked)"
    )


def _ffmpeg(settings: Settings) -> str:
    import subprocess

    from ai2text.audio.transcoder import ffmpeg_binary

    binary = ffmpeg_binary(settings.audio)
    result = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{binary} -version failed")
    return f"{result.stdout.splitlines()[0]} ({binary})"


def _espeak() -> str:
    from ai2text.audio.espeak import Espeak, VoiceSettings
    from ai2text.audio.voices import VOICES

    engine = Espeak()
    for voice in VOICES:
        if engine.speak("xin chào", VoiceSettings(voice=voice)).size == 0:
            raise RuntimeError(f"voice {voice} produced no audio")
    return f"espeak-ng {engine.version()}, voices {', '.join(VOICES)}"


def _vectors(settings: Settings, db: Any) -> str:
    from ai2text.store.vectors import open_vector_store

    return open_vector_store(settings, db).check()


def _bus(settings: Settings, db: Any) -> str:
    from ai2text.bus.bus import open_bus

    bus = open_bus(settings, db)
    try:
        stats = bus.stats()
    finally:
        bus.close()
    waiting = sum(s.pending for s in stats)
    dead = sum(s.dead for s in stats)
    return (
        f"{bus.transport.name} transport, {len(stats)} consumers, "
        f"{waiting} deliveries waiting, {dead} dead letters"
    )

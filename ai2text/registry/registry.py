"""The model registry: every version's file in blobs (``models/{version}/model.nemo``) and its row
in ``model_versions`` (preset, vocabulary, metrics, status, lineage).

Importing checks the file by really loading it (safely); the version name defaults to the preset
and the file's SHA-256, so importing the same file twice is a no-op. Promotion is one transaction:
the old production version is retired, the new one becomes production, an audit row is written
and, given a bus, ``model.promoted`` is published with it; promotions are serialised by a
transaction-scoped advisory lock. The production version is the default model of ``transcribe``,
``eval`` and serving. The bundled bootstrap model (synthetic speech only) is adopted as the first
production version by ``adopt_bootstrap`` (``ai2text models bootstrap``), and automatically when a
model is needed in dev; a prod installation never serves it unless told to. Files are cached under
``AI2TEXT_HOME/models`` and checked against their SHA-256 before use.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ai2text.asr.bootstrap import BundledModel, bundled_bootstrap
from ai2text.bus.bus import EventBus
from ai2text.bus.events import MODEL_PROMOTED, CloudEvent
from ai2text.config import Settings
from ai2text.errors import ConflictError, InputError, ModelLoadError, NotFoundError
from ai2text.store.blobs import BlobStore, model_key
from ai2text.store.database import Database
from ai2text.store.metadata import record_audit

_PROMOTION_LOCK = 0x61693274_6D6F6431  # pg_advisory_xact_lock key: 'ai2t' 'mod1'
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_COLUMNS = (
    "version, preset, vocabulary, kind, parameters, uri, sha256, status, metrics, parent_version,"
    " training_run_id, dataset_hash, created_at, promoted_at"
)


@dataclass(frozen=True)
class ModelVersion:
    version: str
    preset: str | None
    vocabulary: str | None
    kind: str | None
    parameters: int | None
    uri: str
    sha256: str
    status: str
    metrics: dict[str, Any]
    parent_version: str | None
    training_run_id: str | None
    dataset_hash: str | None
    created_at: datetime
    promoted_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        body = self.__dict__.copy()
        body["created_at"] = self.created_at.isoformat()
        body["promoted_at"] = self.promoted_at.isoformat() if self.promoted_at else None
        body["training_run_id"] = str(self.training_run_id) if self.training_run_id else None
        return body


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _row(row: tuple[Any, ...]) -> ModelVersion:
    values = list(row)
    values[8] = values[8] or {}
    return ModelVersion(*values)


class ModelRegistry:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        cache_dir: Path,
        bootstrap: BundledModel | None = None,
        auto_bootstrap: bool = False,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.cache_dir = cache_dir
        self.bootstrap = bootstrap
        self.auto_bootstrap = auto_bootstrap and bootstrap is not None

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> ModelRegistry:
        """The configured blob store, files cached under ``AI2TEXT_HOME/models``, and the bundled
        bootstrap model (adopted automatically in dev only)."""
        from ai2text.store.blobs import open_blob_store

        return cls(
            db,
            open_blob_store(settings),
            settings.home / "models",
            bundled_bootstrap(),
            auto_bootstrap=settings.env == "dev",
        )

    def register(
        self,
        path: Path,
        *,
        actor: str,
        version: str | None = None,
        metrics: dict[str, Any] | None = None,
        parent_version: str | None = None,
        training_run_id: str | None = None,
        dataset_hash: str | None = None,
    ) -> ModelVersion:
        """Check the file loads, store it, and record a candidate version (idempotent per file)."""
        from ai2text.asr.model import load_model

        model = load_model(path)
        digest = sha256_file(path)
        name = version or f"{model.preset or model.kind}-{digest[:12]}"
        if not _VERSION.match(name):
            raise InputError(f"invalid version {name!r}: letters, digits, '.', '_', '-'")
        existing = self.find(name)
        if existing is not None:
            if existing.sha256 != digest:
                raise ConflictError(f"version {name} exists with a different file")
            return existing
        uri = self.blobs.put_file(model_key(name, "model.nemo"), path)
        try:
            with self.db.connection() as conn, conn.transaction():
                row = conn.execute(
                    "INSERT INTO model_versions (version, preset, vocabulary, kind, parameters,"
                    " uri, sha256, metrics, parent_version, training_run_id, dataset_hash)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    f" ON CONFLICT (version) DO NOTHING RETURNING {_COLUMNS}",
                    (
                        name,
                        model.preset,
                        model.vocabulary.kind,
                        model.kind,
                        model.parameters,
                        uri,
                        digest,
                        Jsonb(metrics or {}),
                        parent_version,
                        training_run_id,
                        dataset_hash,
                    ),
                ).fetchone()
                if row is not None:
                    record_audit(
                        conn,
                        actor=actor,
                        action="model.register",
                        entity_type="model_version",
                        entity_id=name,
                        detail={"sha256": digest, "parent": parent_version},
                    )
        except psycopg.errors.ForeignKeyViolation as exc:
            raise NotFoundError(
                f"unknown parent version or training run: {exc.diag.message_detail}"
            ) from exc
        return self.get(name)

    def find(self, version: str) -> ModelVersion | None:
        with self.db.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM model_versions WHERE version = %s", (version,)
            ).fetchone()
        return _row(row) if row else None

    def get(self, version: str) -> ModelVersion:
        found = self.find(version)
        if found is None:
            raise NotFoundError(f"no model version {version}; see ai2text models list")
        return found

    def list(self) -> list[ModelVersion]:
        with self.db.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM model_versions ORDER BY created_at DESC, version"
            ).fetchall()
        return [_row(r) for r in rows]

    def production(self) -> ModelVersion | None:
        with self.db.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM model_versions WHERE status = 'production'"
            ).fetchone()
        return _row(row) if row else None

    def promote(
        self,
        version: str,
        *,
        actor: str,
        reason: str,
        bus: EventBus | None = None,
        only_if_none: bool = False,
    ) -> ModelVersion:
        """Make ``version`` production, retiring the current one, in one transaction.

        With ``only_if_none`` the current production version (if any) is kept and returned.
        """
        with self.db.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PROMOTION_LOCK,))
            if only_if_none:
                current = conn.execute(
                    "SELECT version FROM model_versions WHERE status = 'production'"
                ).fetchone()
                if current is not None:
                    return self.get(current[0])
            row = conn.execute(
                "SELECT status FROM model_versions WHERE version = %s FOR UPDATE", (version,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no model version {version}; see ai2text models list")
            if row[0] == "production":
                return self.get(version)
            previous = conn.execute(
                "UPDATE model_versions SET status = 'retired' WHERE status = 'production'"
                " RETURNING version"
            ).fetchone()
            conn.execute(
                "UPDATE model_versions SET status = 'production', promoted_at = now()"
                " WHERE version = %s",
                (version,),
            )
            record_audit(
                conn,
                actor=actor,
                action="model.promote",
                entity_type="model_version",
                entity_id=version,
                detail={"previous": previous[0] if previous else None, "reason": reason},
            )
            if bus is not None:
                bus.publish(
                    conn,
                    CloudEvent(
                        type=MODEL_PROMOTED,
                        source="/registry",
                        subject=version,
                        data={
                            "version": version,
                            "previous": previous[0] if previous else None,
                            "reason": reason,
                        },
                        idempotencykey=f"promote:{version}",
                    ),
                )
        return self.get(version)

    def adopt_bootstrap(self, bus: EventBus | None = None) -> ModelVersion:
        """The production version, or else the bundled bootstrap model made production."""
        production = self.production()
        if production is not None:
            return production
        if self.bootstrap is None:
            raise NotFoundError(self._no_production())
        self.register(
            self.bootstrap.path,
            actor="system:bootstrap",
            version=self.bootstrap.version,
            metrics=self.bootstrap.metrics,
        )
        return self.promote(
            self.bootstrap.version,
            actor="system:bootstrap",
            reason="bootstrap: the registry had no production model",
            bus=bus,
            only_if_none=True,
        )

    def _no_production(self) -> str:
        adopt = " or adopt the bootstrap model (ai2text models bootstrap)" if self.bootstrap else ""
        return (
            "no production model: import one (ai2text models import PATH) and promote it "
            f"(ai2text models promote VERSION){adopt}, or pass --model"
        )

    def fetch(self, version: str) -> Path:
        """The version's file on local disk (downloaded once, checked against its SHA-256)."""
        entry = self.get(version)
        path = self.cache_dir / entry.version / "model.nemo"
        if path.is_file() and sha256_file(path) == entry.sha256:
            return path
        self.blobs.download(model_key(entry.version, "model.nemo"), path)
        if sha256_file(path) != entry.sha256:
            path.unlink(missing_ok=True)
            raise ModelLoadError(f"the stored file of {version} does not match its SHA-256")
        return path

    def serving(self) -> ModelVersion | None:
        """The production version; with none, the bundled bootstrap adopted where that is
        automatic (dev), else None."""
        production = self.production()
        if production is None and self.auto_bootstrap:
            production = self.adopt_bootstrap()
        return production

    def resolve(self, version_or_path: str | None) -> tuple[Path, str]:
        """A model file and its label: a path as given, a registry version, or production."""
        if version_or_path is None:
            production = self.serving()
            if production is None:
                raise NotFoundError(self._no_production())
            return self.fetch(production.version), production.version
        candidate = Path(version_or_path)
        if candidate.suffix == ".nemo" or candidate.exists():
            if not candidate.is_file():
                raise NotFoundError(f"no model file at {candidate}")
            return candidate.resolve(), f"file:{candidate.name}"
        return self.fetch(version_or_path), version_or_path

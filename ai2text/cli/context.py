"""What several commands open: settings, the database, blobs and the model registry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ai2text.config import Settings, load_settings
from ai2text.registry.registry import ModelRegistry
from ai2text.store.database import Database


@dataclass
class Platform:
    settings: Settings
    db: Database
    registry: ModelRegistry


@contextmanager
def open_platform() -> Iterator[Platform]:
    from ai2text.store.database import open_database

    settings = load_settings()
    with open_database(settings) as db:
        yield Platform(settings, db, ModelRegistry.from_settings(db, settings))

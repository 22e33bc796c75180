from __future__ import annotations

from pathlib import Path

import pytest

from ai2text.config import SplitPolicy, load_settings
from ai2text.errors import ConfigError


def test_defaults_are_embedded_and_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI2TEXT_HOME", str(tmp_path))
    settings = load_settings()
    assert settings.env == "dev"
    assert settings.database_url is None
    assert settings.pgdata_dir == tmp_path / "pgdata"
    assert settings.blob_dir == tmp_path / "blobs"
    assert settings.bus.transport == "postgres"


def test_nested_settings_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI2TEXT_BUS__MAX_ATTEMPTS", "7")
    monkeypatch.setenv("AI2TEXT_BUS__TRANSPORT", "nats")
    monkeypatch.setenv("AI2TEXT_SPLITS__TRAIN_PERCENT", "80")
    settings = load_settings()
    assert settings.bus.max_attempts == 7
    assert settings.bus.transport == "nats"
    assert settings.splits == SplitPolicy(train_percent=80, val_percent=4)


def test_prod_refuses_the_embedded_database() -> None:
    with pytest.raises(ConfigError, match="AI2TEXT_DATABASE_URL"):
        load_settings(env="prod")


def test_unknown_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="blob_backend"):
        load_settings(blob_backend="ftp")


def test_split_policy_must_leave_a_test_split() -> None:
    with pytest.raises(ValueError, match="test split"):
        SplitPolicy(train_percent=90, val_percent=10)

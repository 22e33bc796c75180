"""``ai2text doctor`` on the real embedded defaults: a private PostgreSQL under AI2TEXT_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BOOTSTRAP

COMPONENTS = {"database", "blobs", "vectors", "bus", "model", "ffmpeg", "espeak-ng", "ray"}


def cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AI2TEXT_")}
    return subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", *args],
        env={**clean, "AI2TEXT_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.integration
def test_embedded_defaults_are_usable_and_adopt_the_bootstrap_model(tmp_path: Path) -> None:
    """What ``make run`` does on a fresh installation: doctor, models bootstrap, doctor."""
    result = cli(tmp_path / "home", "doctor", "--json")
    report = json.loads(result.stdout)
    states = {c["name"]: c for c in report["components"]}
    assert set(states) == COMPONENTS
    assert all(states[name]["ok"] for name in COMPONENTS), report
    assert "embedded" in states["database"]["detail"]
    assert "pgvector" in states["vectors"]["detail"]
    assert "postgres transport" in states["bus"]["detail"]
    assert "vi-vn-x-south" in states["espeak-ng"]["detail"]
    assert f"{BOOTSTRAP} becomes production on first use" in states["model"]["detail"]
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()
    assert result.returncode == 0

    adopted = cli(tmp_path / "home", "models", "bootstrap")
    assert adopted.returncode == 0, adopted.stderr
    entry = json.loads(adopted.stdout)
    assert (entry["version"], entry["status"], entry["preset"]) == (
        BOOTSTRAP, "production", "tiny",
    )  # fmt: skip
    assert {"heldout_cer", "heldout_wer"} <= set(entry["metrics"])
    again = cli(tmp_path / "home", "models", "bootstrap")
    assert json.loads(again.stdout)["promoted_at"] == entry["promoted_at"]  # once

    text = cli(tmp_path / "home", "doctor")
    assert text.returncode == 0
    marks = {line.split()[1]: line.split()[0] for line in text.stdout.splitlines()}
    assert marks == dict.fromkeys(COMPONENTS, "ok")
    assert f"{BOOTSTRAP} (tiny, 3.5 M parameters" in text.stdout


@pytest.mark.integration
def test_a_broken_component_fails_with_what_to_do(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the blob folder should be")
    result = cli(tmp_path / "home", "doctor", "--json", AI2TEXT_BLOB_ROOT=str(blocked))
    assert result.returncode == 1
    states = {c["name"]: c for c in json.loads(result.stdout)["components"]}
    assert states["database"]["ok"] is True
    assert states["blobs"]["ok"] is False
    assert "AI2TEXT_BLOB_ROOT" in states["blobs"]["detail"]


@pytest.mark.integration
def test_an_unreachable_database_fails_every_dependent(tmp_path: Path) -> None:
    result = cli(
        tmp_path / "home",
        "doctor",
        "--json",
        AI2TEXT_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
    )
    assert result.returncode == 1
    states = {c["name"]: c for c in json.loads(result.stdout)["components"]}
    assert states["database"]["ok"] is False
    assert "AI2TEXT_DATABASE_URL" in states["database"]["detail"]
    assert states["vectors"]["ok"] is False and states["bus"]["ok"] is False

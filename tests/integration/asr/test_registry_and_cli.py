"""The registry and the ASR commands end to end: import, promote, transcribe, eval, refusals."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ai2text.asr.bootstrap import BundledModel
from ai2text.asr.model import load_model
from ai2text.bus.bus import open_bus
from ai2text.config import Settings
from ai2text.errors import ConflictError, ModelLoadError, NotFoundError
from ai2text.registry.registry import ModelRegistry
from ai2text.store.blobs import LocalBlobStore
from ai2text.store.database import Database
from tests.conftest import BOOTSTRAP
from tests.integration.conftest import TrainedModel


@pytest.fixture
def registry(db: Database, settings: Settings) -> ModelRegistry:
    return ModelRegistry(db, LocalBlobStore(settings.blob_dir), settings.home / "models")


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI2TEXT_")}
    env.update(
        AI2TEXT_HOME=str(settings.home),
        AI2TEXT_DATABASE_URL=settings.database_url.get_secret_value(),  # type: ignore[union-attr]
    )
    return subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_import_promote_and_transcribe(
    registry: ModelRegistry, db: Database, settings: Settings, trained_tiny: TrainedModel
) -> None:
    with pytest.raises(NotFoundError, match="no production model"):
        registry.resolve(None)
    entry = registry.register(trained_tiny.path, actor="test", metrics={"cer": 0.0})
    assert entry.status == "candidate" and entry.preset == "tiny" and entry.vocabulary == "char"
    assert registry.register(trained_tiny.path, actor="test") == entry  # idempotent
    bus = open_bus(settings, db)
    bus.subscribe("watcher", ["model.promoted"])
    promoted = registry.promote(entry.version, actor="test", reason="first model", bus=bus)
    assert promoted.status == "production" and promoted.promoted_at is not None
    path, version = registry.resolve(None)
    assert version == entry.version and load_model(path).preset == "tiny"
    with db.connection() as conn:
        events = conn.execute("SELECT type, subject FROM bus_events").fetchall()
        audit = conn.execute("SELECT action FROM audit_log ORDER BY id").fetchall()
    assert events == [("model.promoted", entry.version)]
    assert [a[0] for a in audit] == ["model.register", "model.promote"]

    result = run_cli(
        settings, "transcribe", *(str(r["audio_filepath"]) for r in trained_tiny.rows[:2])
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [
        set(line) >= {"audio", "text", "words", "segments", "model_version"} for line in lines
    ] == [True, True]
    assert lines[0]["model_version"] == entry.version
    assert lines[0]["text"] == trained_tiny.rows[0]["text"]
    assert set(lines[0]["words"][0]) == {"word", "start", "end", "confidence"}

    checked = run_cli(settings, "doctor", "--json")
    model_state = {c["name"]: c for c in json.loads(checked.stdout)["components"]}["model"]
    assert model_state["ok"] is True and entry.version in model_state["detail"]
    assert checked.returncode == 0, checked.stdout

    per_utterance = settings.home / "per-utterance.jsonl"
    evaluated = run_cli(
        settings,
        "eval",
        "--manifest",
        str(trained_tiny.manifest),
        "--per-utterance",
        str(per_utterance),
    )
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["utterances"] == len(trained_tiny.rows)
    assert report["cer"] < 0.1 and report["wer"] < 0.3
    assert {"tone_error_rate", "diacritic_error_rate"} <= set(report)
    lines = [json.loads(line) for line in per_utterance.read_text().splitlines()]
    assert len(lines) == len(trained_tiny.rows)
    assert lines[0]["reference"] == trained_tiny.rows[0]["text"]
    assert set(lines[0]) == {"audio", "reference", "hypothesis", "wer", "cer"}


def test_a_second_promotion_retires_the_first(
    registry: ModelRegistry, trained_tiny: TrainedModel, tmp_path: Path
) -> None:
    first = registry.register(trained_tiny.path, actor="test", version="v1")
    other = tmp_path / "other.nemo"
    load_model(trained_tiny.path).save(other)  # the same weights in a new archive: other bytes
    with pytest.raises(ConflictError, match="different file"):
        registry.register(other, actor="test", version="v1")
    second = registry.register(other, actor="test", version="v2", parent_version="v1")
    registry.promote("v1", actor="test", reason="r")
    registry.promote("v2", actor="test", reason="r")
    statuses = {e.version: e.status for e in registry.list()}
    assert statuses == {"v1": "retired", "v2": "production"}
    assert second.parent_version == first.version
    with pytest.raises(NotFoundError):
        registry.promote("v9", actor="test", reason="r")


def test_an_empty_registry_adopts_the_bootstrap_model_once(
    db: Database, settings: Settings, trained_tiny: TrainedModel, tmp_path: Path
) -> None:
    bundled = BundledModel("bootstrap-test", trained_tiny.path, {"heldout_cer": 0.05})
    blobs = LocalBlobStore(settings.blob_dir)
    prod_like = ModelRegistry(db, blobs, settings.home / "models", bundled, auto_bootstrap=False)
    with pytest.raises(NotFoundError, match="ai2text models bootstrap"):
        prod_like.resolve(None)  # never adopted unless asked
    registry = ModelRegistry(db, blobs, settings.home / "models", bundled, auto_bootstrap=True)
    assert registry.resolve(None)[1] == "bootstrap-test"
    assert registry.adopt_bootstrap().version == "bootstrap-test"
    entry = registry.get("bootstrap-test")
    assert entry.status == "production" and entry.metrics == {"heldout_cer": 0.05}
    with db.connection() as conn:
        actions = conn.execute("SELECT action, actor FROM audit_log ORDER BY id").fetchall()
    assert actions == [
        ("model.register", "system:bootstrap"),
        ("model.promote", "system:bootstrap"),
    ]
    other = tmp_path / "other.nemo"
    load_model(trained_tiny.path).save(other)
    registry.register(other, actor="test", version="v2")
    registry.promote("v2", actor="test", reason="better")
    assert registry.adopt_bootstrap().version == "v2"  # the bootstrap does not come back
    kept = registry.promote("bootstrap-test", actor="t", reason="r", only_if_none=True)
    assert kept.version == "v2" and registry.get("bootstrap-test").status == "retired"


def test_racing_first_promotions_leave_one_production(
    registry: ModelRegistry, db: Database, trained_tiny: TrainedModel, tmp_path: Path
) -> None:
    other = tmp_path / "other.nemo"
    load_model(trained_tiny.path).save(other)
    registry.register(trained_tiny.path, actor="test", version="a")
    registry.register(other, actor="test", version="b")

    def first_production(version: str) -> str:
        return registry.promote(version, actor="t", reason="r", only_if_none=True).version

    with ThreadPoolExecutor(4) as pool:
        winners = set(pool.map(first_production, ["a", "b", "a", "b"]))
    assert len(winners) == 1
    with db.connection() as conn:
        promotions = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'model.promote'"
        ).fetchone()
    assert promotions == (1,)


def evil_nemo(path: Path, member: str) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in (("model_config.yaml", b"target: x\n"), (member, b"owned")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_crafted_archive_is_refused_before_extraction(tmp_path: Path) -> None:
    outside = tmp_path / "escaped.txt"
    path = evil_nemo(tmp_path / "evil.nemo", "../escaped.txt")
    with pytest.raises(ModelLoadError, match="leaving the archive"):
        load_model(path)
    assert not outside.exists()


def test_not_a_nemo_asr_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wrong.nemo"
    with tarfile.open(path, "w") as archive:
        for name, data in (
            ("model_config.yaml", b"target: nemo.collections.nlp.models.Something\n"),
            ("model_weights.ckpt", b"x"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    with pytest.raises(ModelLoadError, match="supported: NeMo ASR"):
        load_model(path)


def test_cli_errors(settings: Settings, db: Database, tmp_path: Path) -> None:
    missing = run_cli(settings, "transcribe", str(tmp_path / "x.wav"))
    assert missing.returncode == 2 and "x.wav" in missing.stderr
    bad = run_cli(settings, "models", "import", str(evil_nemo(tmp_path / "evil.nemo", "../x")))
    assert bad.returncode == 2 and "refused" in bad.stderr


def test_a_fresh_installation_transcribes_with_the_bootstrap_model(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    from ai2text.audio.synth import SynthOptions, synthesize
    from ai2text.eval.metrics import score_corpus, score_utterance
    from ai2text.text.corpus import corpus_sentences

    sentences = corpus_sentences("heldout")[:4]  # never used in its training
    report = synthesize(sentences, tmp_path / "data", SynthOptions(seed=7), progress=False)
    rows = [json.loads(line) for line in report.manifest.read_text().splitlines()]
    result = run_cli(settings, "transcribe", *(str(r["audio_filepath"]) for r in rows))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["model_version"] for line in lines} == {BOOTSTRAP}
    score = score_corpus(
        [score_utterance(str(r["text"]), line["text"]) for r, line in zip(rows, lines, strict=True)]
    )
    assert score.cer < 0.15, (score, lines)

from __future__ import annotations

import subprocess
import sys

import pytest

from ai2text.cli.main import main

HEAVY = ("psycopg", "torch", "boto3", "qdrant_client", "nats", "pgserver", "numpy")


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys; from ai2text.cli.main import build_parser; build_parser();"
        f" print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("doctor", "db", "bus", "bench"):
        assert command in out


def test_bad_bench_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "bus", "--events", "0"])
    assert exit_info.value.code == 2
    assert "positive" in capsys.readouterr().err


def test_config_error_exits_non_zero_with_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AI2TEXT_ENV", "prod")
    monkeypatch.delenv("AI2TEXT_DATABASE_URL", raising=False)
    assert main(["db", "url"]) == 1
    assert "AI2TEXT_DATABASE_URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["train"],
        ["train", "--manifest", "m.jsonl"],
        ["train", "--dataset", "abc", "--manifest", "m.jsonl", "--val-manifest", "v.jsonl"],
    ],
)
def test_train_needs_manifests_or_a_dataset(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert "--manifest and --val-manifest, or --dataset" in capsys.readouterr().err

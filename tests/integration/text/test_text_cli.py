"""``ai2text text normalize|itn|restore|train-restorer``: stdin lines to stdout lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai2text.text.corpus import corpus_sentences
from ai2text.text.rewrite import Correction, apply_corrections

pytestmark = pytest.mark.integration


def text_cli(*args: str, stdin: str = "", home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "text", *args],
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "AI2TEXT_HOME": str(home)},
    )  # fmt: skip


def test_normalize_and_itn_keep_one_line_per_line(tmp_path: Path) -> None:
    result = text_cli("normalize", stdin="Giá 100$\n\nlúc 14h30\n", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Giá một trăm đô la", "", "lúc mười bốn giờ ba mươi phút"]
    back = text_cli("itn", stdin=result.stdout, home=tmp_path)
    assert back.stdout.splitlines() == ["Giá 100$", "", "lúc 14:30"]


def test_restore_reports_its_corrections(tmp_path: Path) -> None:
    result = text_cli("restore", "--json", stdin="xin chao cac ban\n", home=tmp_path)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["text_clean"] == "xin chào các bạn"
    fixes = [Correction(**c) for c in body["corrections"]]
    assert [c.original for c in fixes] == ["chao", "cac", "ban"]
    assert apply_corrections("xin chao cac ban", fixes) == body["text_clean"]


def test_train_restorer_then_restore_with_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    sentences = corpus_sentences("train")
    corpus.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    model = tmp_path / "restorer.json.gz"
    trained = text_cli("train-restorer", str(corpus), "--out", str(model), home=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["sentences"] == len(sentences) and model.is_file()
    restored = text_cli("restore", "--model", str(model), stdin="Xin chao cac ban\n", home=tmp_path)
    assert restored.stdout.strip() == "Xin chào các bạn"


def test_bad_inputs_get_a_message_and_exit_2(tmp_path: Path) -> None:
    missing = text_cli("train-restorer", str(tmp_path / "none.txt"), "--out",
                       str(tmp_path / "m"), home=tmp_path)  # fmt: skip
    assert missing.returncode == 2 and "no corpus file" in missing.stderr
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    binary = text_cli("train-restorer", str(tmp_path / "binary.txt"), "--out",
                      str(tmp_path / "m"), home=tmp_path)  # fmt: skip
    assert binary.returncode == 2 and "UTF-8" in binary.stderr
    (tmp_path / "junk.gz").write_bytes(b"not a model")
    junk = text_cli("restore", "--model", str(tmp_path / "junk.gz"), stdin="a\n", home=tmp_path)
    assert junk.returncode == 2 and "junk.gz" in junk.stderr

from __future__ import annotations

from pathlib import Path

import pytest

from ai2text.data.manifest import ManifestRow, read_manifest, write_manifest
from ai2text.errors import InputError


def test_round_trip_and_relative_paths(tmp_path: Path) -> None:
    rows = [
        ManifestRow("audio/a.wav", "xin chào", 1.5, "spk1", {"snr_db": 20.0}),
        ManifestRow("/abs/b.wav", "tạm biệt", 2.0),
    ]
    assert write_manifest(tmp_path / "m.jsonl", rows) == 2
    again = read_manifest(tmp_path / "m.jsonl")
    assert again[0].audio_filepath == str(tmp_path / "audio" / "a.wav")
    assert (again[0].text, again[0].speaker, again[0].extra) == (
        "xin chào",
        "spk1",
        {"snr_db": 20.0},
    )
    assert again[1].audio_filepath == "/abs/b.wav"


def test_malformed_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(
        '{"audio_filepath": "a.wav", "text": "x", "duration": 1}\n{"text": "no audio"}\n'
    )
    with pytest.raises(InputError, match=r"m\.jsonl:2"):
        read_manifest(path)
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(InputError, match="empty"):
        read_manifest(tmp_path / "empty.jsonl")

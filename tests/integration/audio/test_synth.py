"""Real espeak-ng: three Vietnamese voices, seeded, with augmentation and a NeMo manifest."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ai2text.audio.espeak import Espeak, VoiceSettings
from ai2text.audio.synth import SynthOptions, synthesize
from ai2text.audio.voices import VOICES
from ai2text.audio.wav import read_wav
from ai2text.errors import InputError

SENTENCES = [
    "Xin chào các bạn, hôm nay trời đẹp quá.",
    "Tôi muốn mua hai ký cà chua và một bó rau muống.",
    "Chuyến tàu đến Đà Nẵng khởi hành lúc bảy giờ sáng.",
    "Mẹ tôi nấu canh chua rất ngon.",
]


@pytest.mark.parametrize("voice", VOICES)
def test_each_vietnamese_voice_speaks(voice: str) -> None:
    engine = Espeak()
    samples = engine.speak(SENTENCES[0], VoiceSettings(voice=voice, variant="f2"))
    seconds = samples.size / engine.sample_rate
    # espeak-ng's Vietnamese runs at about 15 characters a second
    assert 1.5 < seconds < 5.0
    assert float(abs(samples).max()) > 0.1


def test_synthesis_is_seeded_and_writes_a_nemo_manifest(tmp_path: Path) -> None:
    options = SynthOptions(seed=11, noise_snr_db=(15, 25), gain_db=(-3, 0), speed=(0.9, 1.1))
    first = synthesize(SENTENCES, tmp_path / "a", options, progress=False)
    again = synthesize(SENTENCES, tmp_path / "b", options, progress=False)
    rows = [json.loads(line) for line in first.manifest.read_text().splitlines()]
    assert first.utterances == len(rows) == len(SENTENCES)
    assert rows[1]["text"] == "tôi muốn mua hai ký cà chua và một bó rau muống"
    for row in rows:
        assert set(row) >= {"audio_filepath", "text", "duration", "speaker"}
        samples, rate = read_wav(Path(row["audio_filepath"]))
        assert rate == 16000
        assert samples.size / rate == pytest.approx(row["duration"], abs=1e-3)
        assert 15 <= row["snr_db"] <= 25 and 0.9 <= row["speed"] <= 1.1
    # the same seed gives the same parameters; espeak-ng's flutter moves durations by a few ms
    rows_again = [json.loads(line) for line in again.manifest.read_text().splitlines()]
    assert [parameters(r) for r in rows] == [parameters(r) for r in rows_again]
    for row, row_again in zip(rows, rows_again, strict=True):
        assert row["duration"] == pytest.approx(row_again["duration"], abs=0.05)
    other = synthesize(
        SENTENCES, tmp_path / "c", dataclasses.replace(options, seed=12), progress=False
    )
    other_rows = [json.loads(line) for line in other.manifest.read_text().splitlines()]
    assert [parameters(r) for r in other_rows] != [parameters(r) for r in rows]


def parameters(row: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in row.items() if k not in {"audio_filepath", "duration"}}


def test_worker_processes_give_the_same_utterances(tmp_path: Path) -> None:
    options = SynthOptions(seed=5, noise_snr_db=(5, 30))
    one = synthesize(SENTENCES, tmp_path / "one", options, progress=False)
    two = synthesize(SENTENCES, tmp_path / "two", options, workers=2, progress=False)
    rows_one = [json.loads(line) for line in one.manifest.read_text().splitlines()]
    rows_two = [json.loads(line) for line in two.manifest.read_text().splitlines()]
    assert [parameters(r) for r in rows_one] == [parameters(r) for r in rows_two]


def test_bad_options_are_refused() -> None:
    with pytest.raises(InputError, match="voice"):
        SynthOptions(voices=("en",))
    with pytest.raises(InputError, match="LOW <= HIGH"):
        SynthOptions(speed=(1.2, 0.8))


def test_cli(tmp_path: Path) -> None:
    text = tmp_path / "s.txt"
    text.write_text("\n".join(SENTENCES[:2]) + "\n\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "synth", "--text-file", str(text),
         "--out", str(tmp_path / "o"), "--voice", "vi-vn-x-south", "--seed", "3", "--quiet"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    report = json.loads(out.stdout)
    assert report["utterances"] == 2 and report["speakers"] >= 1
    assert (tmp_path / "o" / "manifest.jsonl").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "synth", "--text-file", str(tmp_path / "no"),
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and "cannot read sentences" in bad.stderr

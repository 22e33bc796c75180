from __future__ import annotations

import pytest

from ai2text.errors import InputError
from ai2text.store.metadata import AudioRecord

GOOD = {"sha256": "ab" * 32, "source": "upload", "duration_s": 1.0, "sample_rate": 16000}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "AB" * 32}, "sha256"),
        ({"sha256": "abc"}, "sha256"),
        ({"source": "email"}, "source"),
        ({"duration_s": -1.0}, "duration"),
        ({"duration_s": float("nan")}, "duration"),
        ({"sample_rate": 0}, "sample rate"),
        ({"speaker_id": ""}, "speaker id"),
        ({"split": "train"}, "without a speaker"),
    ],
)
def test_malformed_recordings_are_refused_before_the_database(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        AudioRecord(**{**GOOD, **change})  # type: ignore[arg-type]


def test_a_wellformed_recording_is_accepted() -> None:
    assert AudioRecord(**GOOD, speaker_id="spk", split="val").split == "val"  # type: ignore[arg-type]

from __future__ import annotations

import uuid

import pytest

from ai2text.errors import InputError
from ai2text.store.blobs import audio_raw_key, model_key, transcript_key, validate_key


def test_seed_layout() -> None:
    audio_id = uuid.UUID("00000000-0000-0000-0000-000000000001")
    assert audio_raw_key(audio_id) == f"audio/raw/{audio_id}.wav"
    assert transcript_key(audio_id) == f"transcripts/{audio_id}.json"
    assert model_key("v1", "model.nemo") == "models/v1/model.nemo"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a//b",
        "a/./b",
        "a\\b",
        "a b",
        "x/",
        ".hidden",
        "a" * 600,
    ],
)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(InputError, match="invalid blob key"):
        validate_key(key)

"""Scoring a model on manifest rows: transcribe (greedy by default) and compute the error rates.
Shared by ``ai2text eval``, training's validation and the promotion gate."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ai2text.asr.model import AsrModel
from ai2text.asr.transcriber import DecodingOptions, Transcriber
from ai2text.audio.transcoder import load_audio
from ai2text.config import AudioSettings
from ai2text.data.manifest import ManifestRow
from ai2text.eval.metrics import CorpusScore, score_corpus, score_utterance
from ai2text.text.syllable_lm import SyllableLM


def evaluate_model(
    model: AsrModel,
    rows: Sequence[ManifestRow],
    *,
    decoding: DecodingOptions | None = None,
    lm: SyllableLM | None = None,
    settings: AudioSettings | None = None,
    label: str = "evaluated",
) -> CorpusScore:
    audio_settings = settings or AudioSettings()
    audios = [load_audio(Path(r.audio_filepath), audio_settings).samples for r in rows]
    with Transcriber(
        model, model_version=label, lm=lm, decoding=decoding or DecodingOptions()
    ) as t:
        transcripts = t.transcribe(audios)
    return score_corpus(
        [score_utterance(r.text, h.text) for r, h in zip(rows, transcripts, strict=True)]
    )

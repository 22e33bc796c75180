"""Scoring a model on manifest rows: transcribe (greedy by default) and compute the error rates.
Shared by ``ai2text eval``, training's validation and the promotion gate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ai2text.asr.model import AsrModel
from ai2text.asr.transcriber import DecodingOptions, Transcriber, Transcript
from ai2text.audio.transcoder import load_audio
from ai2text.config import AudioSettings
from ai2text.data.manifest import ManifestRow
from ai2text.eval.metrics import CorpusScore, UtteranceScore, score_corpus, score_utterance
from ai2text.text.syllable_lm import SyllableLM


@dataclass(frozen=True)
class ScoredUtterance:
    row: ManifestRow
    transcript: Transcript
    score: UtteranceScore


def score_rows(
    transcriber: Transcriber, rows: Sequence[ManifestRow], settings: AudioSettings
) -> list[ScoredUtterance]:
    """Transcribe every row's audio in one request and score it against the row's text."""
    audios = [load_audio(Path(r.audio_filepath), settings).samples for r in rows]
    transcripts = transcriber.transcribe(audios)
    return [
        ScoredUtterance(row, transcript, score_utterance(row.text, transcript.text))
        for row, transcript in zip(rows, transcripts, strict=True)
    ]


def evaluate_model(
    model: AsrModel,
    rows: Sequence[ManifestRow],
    *,
    decoding: DecodingOptions | None = None,
    lm: SyllableLM | None = None,
    settings: AudioSettings | None = None,
    label: str = "evaluated",
) -> CorpusScore:
    with Transcriber(
        model, model_version=label, lm=lm, decoding=decoding or DecodingOptions()
    ) as transcriber:
        scored = score_rows(transcriber, rows, settings or AudioSettings())
    return score_corpus([s.score for s in scored])

"""Transcripts rendered for people and programs: JSON, plain text, SRT and WebVTT."""

from __future__ import annotations

from typing import Any

from ai2text.asr.ctc import Word
from ai2text.asr.transcriber import Segment, Transcript


def word_json(word: Word) -> dict[str, Any]:
    return {"word": word.word, "start": word.start, "end": word.end, "confidence": word.confidence}


def segment_json(segment: Segment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "words": [word_json(w) for w in segment.words],
    }


def transcript_json(transcript: Transcript, audio: str) -> dict[str, Any]:
    return {
        "audio": audio,
        "text": transcript.text,
        "words": [word_json(w) for w in transcript.words],
        "segments": [segment_json(s) for s in transcript.segments],
        "confidence": transcript.confidence,
        "duration": transcript.duration_s,
        "model_version": transcript.model_version,
    }


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(transcript: Transcript) -> str:
    blocks = [
        f"{i + 1}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{s.text}\n"
        for i, s in enumerate(transcript.segments)
    ]
    return "\n".join(blocks)


def to_vtt(transcript: Transcript) -> str:
    blocks = [
        f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{s.text}\n" for s in transcript.segments
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def openai_verbose_json(transcript: Transcript, words: bool, segments: bool) -> dict[str, Any]:
    """OpenAI's ``verbose_json`` transcription shape (what its client parses), plus our fields."""
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": "vietnamese",
        "duration": transcript.duration_s,
        "text": transcript.text,
        "model_version": transcript.model_version,
        "confidence": transcript.confidence,
    }
    if segments:
        body["segments"] = [
            {
                "id": s.id,
                "seek": 0,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": 0.0,
                "compression_ratio": 1.0,
                "no_speech_prob": 0.0,
                "words": [word_json(w) for w in s.words],
            }
            for s in transcript.segments
        ]
    if words:
        body["words"] = [word_json(w) for w in transcript.words]
    return body

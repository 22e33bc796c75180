from __future__ import annotations

from ai2text.asr.ctc import Word
from ai2text.asr.formats import to_srt, to_vtt, transcript_json
from ai2text.asr.transcriber import Transcript, segments_of

WORDS = [
    Word("xin", 0.12, 0.4, 0.9),
    Word("chào", 0.44, 0.8, 0.8),
    Word("tạm", 3660.0, 3660.3, 0.7),
    Word("biệt", 3660.32, 3661.5, 0.6),
]


def transcript() -> Transcript:
    return Transcript("xin chào tạm biệt", WORDS, segments_of(WORDS), 0.75, 3662.0, "v1")


def test_segments_split_at_pauses() -> None:
    segments = segments_of(WORDS, max_gap_s=0.8)
    assert [s.text for s in segments] == ["xin chào", "tạm biệt"]
    assert (segments[1].start, segments[1].end) == (3660.0, 3661.5)
    long_run = [Word(f"w{i}", i * 0.5, i * 0.5 + 0.4, 1.0) for i in range(40)]
    assert [len(s.words) for s in segments_of(long_run, max_len_s=15.0)] == [30, 10]


def test_srt_and_vtt_clocks() -> None:
    srt = to_srt(transcript())
    assert srt.startswith("1\n00:00:00,120 --> 00:00:00,800\nxin chào\n")
    assert "2\n01:01:00,000 --> 01:01:01,500\ntạm biệt\n" in srt
    vtt = to_vtt(transcript())
    assert vtt.startswith("WEBVTT\n\n00:00:00.120 --> 00:00:00.800\nxin chào\n")


def test_json_contract() -> None:
    body = transcript_json(transcript(), "a.wav")
    assert set(body) >= {"audio", "text", "words", "segments", "model_version"}
    assert body["words"][0] == {"word": "xin", "start": 0.12, "end": 0.4, "confidence": 0.9}
    assert body["segments"][0]["words"][1]["word"] == "chào"

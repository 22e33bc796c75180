"""Streaming sessions on the bundled bootstrap model: bounded windows, partials every step,
endpoints at pauses, and finals as good as offline transcription of the same audio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ai2text.asr.bootstrap import bundled_bootstrap
from ai2text.asr.model import load_model
from ai2text.asr.streaming import StreamOptions, StreamSession, WindowEncoder
from ai2text.asr.transcriber import Transcriber
from ai2text.audio.synth import SynthOptions, synthesize
from ai2text.audio.wav import read_wav
from ai2text.eval.metrics import score_corpus, score_utterance
from ai2text.text.corpus import corpus_sentences

pytestmark = pytest.mark.integration


def test_stream_finals_match_offline_and_windows_stay_bounded(tmp_path: Path) -> None:
    bundled = bundled_bootstrap()
    assert bundled is not None
    model = load_model(bundled.path)
    encoder = WindowEncoder(model)
    sentences = corpus_sentences("heldout")[:12]
    report = synthesize(sentences, tmp_path, SynthOptions(seed=5), progress=False)
    rows = [json.loads(line) for line in report.manifest.read_text().splitlines()]
    options = StreamOptions()
    bound = options.left_context_s + options.right_context_s + options.step_s + 0.2
    offline, streamed = [], []
    with Transcriber(model, model_version="bootstrap") as transcriber:
        for row in rows:
            audio = read_wav(Path(row["audio_filepath"]))[0]
            session = StreamSession(model.vocabulary, model.frame_s, options)
            partials, finals = 0, []
            for start in range(0, audio.size, 1600):  # 100 ms frames
                session.push(audio[start : start + 1600])
                while (window := session.window()) is not None:
                    assert window.samples.size / 16000 <= bound
                    for event in session.accept(window, encoder.encode([window.samples])[0]):
                        partials += event.type == "partial"
                        finals += [event.text] if event.type == "final" else []
            window = session.window(final=True)
            assert window is not None
            finals += [e.text for e in session.accept(window, encoder.encode([window.samples])[0])]
            assert partials >= audio.size / 16000 / 0.5 - 1
            streamed.append(score_utterance(row["text"], " ".join(t for t in finals if t)))
            offline.append(score_utterance(row["text"], transcriber.transcribe([audio])[0].text))
    assert score_corpus(streamed).cer <= score_corpus(offline).cer + 0.02


def test_pause_ends_an_utterance_with_stream_times(tmp_path: Path) -> None:
    bundled = bundled_bootstrap()
    assert bundled is not None
    model = load_model(bundled.path)
    encoder = WindowEncoder(model)
    voice = SynthOptions(voices=("vi",), variants=(None,), seed=1)
    report = synthesize(["xin chào các bạn", "cảm ơn anh nhiều"], tmp_path, voice, progress=False)
    first, second = (read_wav(Path(json.loads(line)["audio_filepath"]))[0]
                     for line in report.manifest.read_text().splitlines())  # fmt: skip
    audio = np.concatenate([first, np.zeros(16000, np.float32), second])
    session = StreamSession(model.vocabulary, model.frame_s, StreamOptions())
    finals = []
    for start in range(0, audio.size, 4000):
        session.push(audio[start : start + 4000])
        while (window := session.window()) is not None:
            finals += [e for e in session.accept(window, encoder.encode([window.samples])[0])
                       if e.type == "final"]  # fmt: skip
    window = session.window(final=True)
    if window is not None:
        finals += session.accept(window, encoder.encode([window.samples])[0])
    assert len(finals) == 2, [f.text for f in finals]
    assert finals[1].words[0].start > first.size / 16000
    with pytest.raises(Exception, match="limit"):
        StreamSession(model.vocabulary, model.frame_s, StreamOptions(max_session_s=1)).push(audio)

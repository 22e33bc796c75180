"""The Transcriber on a really trained tiny model: words, times, batching, threads, long audio."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from ai2text.asr.ctc import BeamOptions
from ai2text.asr.model import AsrModel, load_model
from ai2text.asr.transcriber import BatchingOptions, DecodingOptions, Transcriber
from ai2text.audio.chunking import plan_windows
from ai2text.errors import InputError
from ai2text.eval.metrics import score_corpus, score_utterance
from ai2text.text.syllable_lm import SyllableLM
from tests.integration.conftest import SENTENCES, TrainedModel


@pytest.fixture(scope="module")
def model(trained_tiny: TrainedModel) -> AsrModel:
    return load_model(trained_tiny.path)


@pytest.fixture
def transcriber(model: AsrModel) -> Iterator[Transcriber]:
    with Transcriber(model, model_version="test") as running:
        yield running


def test_it_learned_its_sentences(transcriber: Transcriber, trained_tiny: TrainedModel) -> None:
    transcripts = transcriber.transcribe(trained_tiny.audios)
    score = score_corpus(
        [
            score_utterance(str(r["text"]), t.text)
            for r, t in zip(trained_tiny.rows, transcripts, strict=True)
        ]
    )
    assert score.cer < 0.1, [t.text for t in transcripts]


def test_words_are_timed_inside_the_audio(
    transcriber: Transcriber, trained_tiny: TrainedModel
) -> None:
    for audio, transcript in zip(
        trained_tiny.audios, transcriber.transcribe(trained_tiny.audios), strict=True
    ):
        assert transcript.words, "the trained model emits words"
        assert transcript.text == " ".join(w.word for w in transcript.words)
        previous_end = 0.0
        for word in transcript.words:
            assert previous_end <= word.start < word.end <= audio.size / 16000 + 0.04
            assert 0.0 < word.confidence <= 1.0
            previous_end = word.end
        assert transcript.segments[0].start == transcript.words[0].start
        assert transcript.model_version == "test"


def test_eight_threads_match_one(transcriber: Transcriber, trained_tiny: TrainedModel) -> None:
    expected = [t.text for t in transcriber.transcribe(trained_tiny.audios)]
    results: dict[int, list[str]] = {}

    def work(n: int) -> None:
        order = trained_tiny.audios[n % 8 :] + trained_tiny.audios[: n % 8]
        texts = [t.text for t in transcriber.transcribe(order)]
        results[n] = texts[8 - n % 8 :] + texts[: 8 - n % 8]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[n] == expected for n in range(8))
    assert max(transcriber.batch_sizes) > 8  # concurrent requests shared batches


def test_long_audio_is_windowed_without_lost_or_repeated_words(
    model: AsrModel, trained_tiny: TrainedModel
) -> None:
    gap = np.zeros(8000, dtype=np.float32)
    long_audio = np.concatenate([part for audio in trained_tiny.audios for part in (audio, gap)])
    batching = BatchingOptions(window_s=6.0, overlap_s=2.0)
    with Transcriber(model, model_version="test", batching=batching) as windowed:
        (transcript,) = windowed.transcribe([long_audio])
        windows = plan_windows(long_audio.size, 16000, window_s=6.0, overlap_s=2.0)
        assert len(windows) >= 3
        assert windowed.batch_sizes == [len(windows)]  # every window, in one batch
    # The exact merge is unit-tested. This model learned isolated clips, so its words on
    # continuous windows are not checked here; what windowing itself guarantees is: no word
    # repeated across a seam (it would overlap its twin in time), every window contributing words
    # in the span it owns, and nothing lost at the end.
    words = transcript.words
    assert all(b.start >= a.end - 0.04 for a, b in itertools.pairwise(words))
    for window in windows:
        owned_to = min(window.own_to_s, long_audio.size / 16000)
        assert any(window.own_from_s <= (w.start + w.end) / 2 < owned_to for w in words)
    assert words[-1].end > long_audio.size / 16000 - 3.0


def test_results_survive_nemo_transcribe_on_the_same_model(
    transcriber: Transcriber, model: AsrModel, trained_tiny: TrainedModel
) -> None:
    # regression: NeMo's transcribe() leaves the encoder in training mode (dropout on)
    before = [t.text for t in transcriber.transcribe(trained_tiny.audios)]
    model.module.transcribe(
        [str(trained_tiny.rows[0]["audio_filepath"])], batch_size=1, verbose=False
    )
    assert model.module.encoder.training
    assert [t.text for t in transcriber.transcribe(trained_tiny.audios)] == before


def test_beam_search_with_the_lm(model: AsrModel, trained_tiny: TrainedModel) -> None:
    lm = SyllableLM.train(SENTENCES)
    decoding = DecodingOptions(method="beam", beam=BeamOptions(beam_size=4, lm_weight=0.5))
    with Transcriber(model, model_version="test", lm=lm, decoding=decoding) as beam:
        transcripts = beam.transcribe(trained_tiny.audios)
    cer = score_corpus(
        [
            score_utterance(str(r["text"]), t.text)
            for r, t in zip(trained_tiny.rows, transcripts, strict=True)
        ]
    ).cer
    assert cer < 0.1


def test_bad_audio_is_refused(transcriber: Transcriber) -> None:
    with pytest.raises(InputError):
        transcriber.transcribe([np.zeros((2, 100), dtype=np.float32)])
    with pytest.raises(InputError):
        transcriber.transcribe([np.zeros(100, dtype=np.float64)])  # type: ignore[list-item]
    assert transcriber.transcribe([]) == []
    (silence,) = transcriber.transcribe([np.zeros(16000, dtype=np.float32)])
    assert silence.duration_s == 1.0

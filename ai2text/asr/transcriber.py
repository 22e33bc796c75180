"""Batched, thread-safe inference: audio in, text with words, times and confidences out.

One worker thread owns the model; callers on any thread submit audio and wait on a future, so the
model is never entered twice at once (NeMo's ``transcribe()`` is not thread-safe). Requests that
arrive together are served together: their audio is cut into overlapping windows, the windows of
all waiting requests are sorted by length and packed into batches under a sample budget (little
padding), run under ``torch.inference_mode()`` (bf16 autocast on a GPU), decoded (greedy or beam
search with the syllable LM), and merged back per request with :mod:`ai2text.audio.chunking`.
NeMo's Lightning ``transcribe()`` loop is not used.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from ai2text.asr.ctc import BeamOptions, Word, beam_search_tokens, greedy_tokens, words_from_tokens
from ai2text.asr.model import AsrModel
from ai2text.audio.batching import pack_by_length
from ai2text.audio.chunking import Window, merge_windows, plan_windows
from ai2text.audio.transcoder import SAMPLE_RATE
from ai2text.errors import InputError
from ai2text.text.syllable_lm import SyllableLM

Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class DecodingOptions:
    method: Literal["greedy", "beam"] = "greedy"
    beam: BeamOptions = field(default_factory=BeamOptions)


@dataclass(frozen=True)
class BatchingOptions:
    max_batch_seconds: float = 240.0  # padded audio per batch
    max_batch_size: int = 32
    max_wait_s: float = 0.005  # how long the worker waits for more requests to join a batch
    window_s: float = 30.0
    overlap_s: float = 4.0


@dataclass(frozen=True)
class Segment:
    id: int
    start: float
    end: float
    text: str
    words: list[Word]


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[Word]
    segments: list[Segment]
    confidence: float
    duration_s: float
    model_version: str


@dataclass
class _Request:
    audios: list[Audio]
    future: Future[list[Transcript]] = field(default_factory=Future)


@dataclass(frozen=True)
class _Job:
    request: int
    audio: int
    window: Window
    samples: Audio


def _shift(word: Word, seconds: float) -> Word:
    return replace(word, start=round(word.start + seconds, 3), end=round(word.end + seconds, 3))


def segments_of(
    words: Sequence[Word], max_gap_s: float = 0.8, max_len_s: float = 15.0
) -> list[Segment]:
    """Words grouped at pauses over ``max_gap_s``, or before a segment would pass ``max_len_s``."""
    groups: list[list[Word]] = []
    for word in words:
        if (
            groups
            and word.start - groups[-1][-1].end <= max_gap_s
            and word.end - groups[-1][0].start <= max_len_s
        ):
            groups[-1].append(word)
        else:
            groups.append([word])
    return [
        Segment(i, g[0].start, g[-1].end, " ".join(w.word for w in g), list(g))
        for i, g in enumerate(groups)
    ]


class Transcriber:
    def __init__(
        self,
        model: AsrModel,
        *,
        model_version: str,
        lm: SyllableLM | None = None,
        decoding: DecodingOptions = DecodingOptions(),
        batching: BatchingOptions = BatchingOptions(),
        device: str | None = None,
    ) -> None:
        import torch

        if model.kind == "rnnt":
            raise InputError("the Transcriber decodes CTC; this RNNT-only model has no CTC head")
        self.model = model
        self.model_version = model_version
        self.lm = lm
        self.decoding = decoding
        self.batching = batching
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.module.to(self.device).eval()
        self.batch_sizes: list[int] = []
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._worker = threading.Thread(target=self._serve, name="transcriber", daemon=True)
        self._worker.start()

    def transcribe(self, audios: Sequence[Audio]) -> list[Transcript]:
        """Transcribe 16 kHz mono float32 arrays; safe to call from many threads at once."""
        for audio in audios:
            if audio.ndim != 1 or audio.dtype != np.float32:
                raise InputError("audio must be a 1-D float32 array at 16 kHz")
        if not audios:
            return []
        request = _Request(list(audios))
        self._queue.put(request)
        return request.future.result()

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join()

    def __enter__(self) -> Transcriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            requests = [first]
            budget = self.batching.max_batch_seconds * SAMPLE_RATE * 4
            waiting = sum(a.size for a in first.audios)
            while waiting < budget:
                try:
                    more = self._queue.get(timeout=self.batching.max_wait_s)
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                requests.append(more)
                waiting += sum(a.size for a in more.audios)
            try:
                results = self._run(requests)
            except BaseException as exc:
                for request in requests:
                    request.future.set_exception(exc)
                continue
            for request, result in zip(requests, results, strict=True):
                request.future.set_result(result)

    def _run(self, requests: Sequence[_Request]) -> list[list[Transcript]]:
        # Every run, not once: NeMo's own transcribe() returns with the encoder in training mode
        # (dropout on), and anything else holding the module may do the same.
        self.model.module.eval()
        jobs: list[_Job] = []
        plans: dict[tuple[int, int], list[Window]] = {}
        for r, request in enumerate(requests):
            for a, audio in enumerate(request.audios):
                windows = plan_windows(
                    audio.size, SAMPLE_RATE, self.batching.window_s, self.batching.overlap_s
                )
                plans[(r, a)] = windows
                jobs.extend(_Job(r, a, w, audio[w.start : w.end]) for w in windows)
        words: dict[tuple[int, int, int], list[Word]] = {}
        for batch in self._batches(jobs):
            for job, decoded in zip(batch, self._infer(batch), strict=True):
                words[(job.request, job.audio, job.window.start)] = decoded
        results: list[list[Transcript]] = []
        for r, request in enumerate(requests):
            transcripts = []
            for a, audio in enumerate(request.audios):
                windows = plans[(r, a)]
                merged = merge_windows(
                    windows, [words[(r, a, w.start)] for w in windows], SAMPLE_RATE, _shift
                )
                confidence = float(np.mean([w.confidence for w in merged])) if merged else 0.0
                transcripts.append(
                    Transcript(
                        text=" ".join(w.word for w in merged),
                        words=merged,
                        segments=segments_of(merged),
                        confidence=round(confidence, 4),
                        duration_s=round(audio.size / SAMPLE_RATE, 3),
                        model_version=self.model_version,
                    )
                )
            results.append(transcripts)
        return results

    def _batches(self, jobs: list[_Job]) -> list[list[_Job]]:
        groups = pack_by_length(
            [j.samples.size for j in jobs],
            int(self.batching.max_batch_seconds * SAMPLE_RATE),
            self.batching.max_batch_size,
        )
        return [[jobs[i] for i in group] for group in groups]

    def _infer(self, batch: Sequence[_Job]) -> list[list[Word]]:
        import torch

        self.batch_sizes.append(len(batch))
        longest = max(max(j.samples.size for j in batch), SAMPLE_RATE // 10)
        signals = np.zeros((len(batch), longest), dtype=np.float32)
        for i, job in enumerate(batch):
            signals[i, : job.samples.size] = job.samples
        lengths = torch.tensor([max(j.samples.size, 1) for j in batch], device=self.device)
        with (
            torch.inference_mode(),
            torch.autocast(
                device_type=self.device.type,
                dtype=torch.bfloat16,
                enabled=self.device.type == "cuda",
            ),
        ):
            log_probs, frames = self.model.ctc_log_probs(
                torch.from_numpy(signals).to(self.device), lengths
            )
        posteriors = log_probs.float().cpu().numpy()
        counts = frames.cpu().tolist()
        decoded = []
        for i in range(len(batch)):
            frame_log_probs = posteriors[i, : int(counts[i])]
            if self.decoding.method == "beam":
                tokens = beam_search_tokens(
                    frame_log_probs, self.model.vocabulary, self.decoding.beam, self.lm
                )
            else:
                tokens = greedy_tokens(frame_log_probs, self.model.vocabulary.blank)
            decoded.append(
                words_from_tokens(
                    frame_log_probs, tokens, self.model.vocabulary, self.model.frame_s
                ).words
            )
        return decoded

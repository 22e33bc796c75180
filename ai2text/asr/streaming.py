"""Streaming recognition: sliding windows with left context over a CTC model.

Each step runs the encoder on a window of ``left_context_s`` already-heard audio plus the audio
that arrived since the last step, so the work per partial is bounded by the window, never by the
session. Of the window's CTC frames, those in the left context were taken at an earlier step
and are dropped; the new frames up to ``right_context_s`` before the window's end are committed
(they had that much audio to their right); the last ``right_context_s`` are provisional and are
replaced by the next step. A partial is the greedy decoding of the utterance's committed plus
provisional frames. When the last ``endpoint_silence_s`` of frames are all blank after some
speech, the utterance ends: a final with words and times goes out and the next utterance starts.

:class:`StreamSession` holds one stream's state and makes the windows; :class:`WindowEncoder`
runs the windows of many sessions as one batch. Sessions never touch the model, so a server can
batch the steps of all its streams together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ai2text.asr.ctc import Word, greedy_tokens, words_from_tokens
from ai2text.asr.model import AsrModel
from ai2text.asr.vocabulary import Vocabulary
from ai2text.audio.transcoder import SAMPLE_RATE
from ai2text.errors import InputError

Audio = npt.NDArray[np.float32]
LogProbs = npt.NDArray[np.float32]


@dataclass(frozen=True)
class StreamOptions:
    step_s: float = 0.25  # a step runs once this much new audio has arrived (partials cadence)
    left_context_s: float = 3.0
    right_context_s: float = 0.64
    endpoint_silence_s: float = 0.64
    max_session_s: float = 3600.0

    def __post_init__(self) -> None:
        if not 0 < self.step_s <= 0.5:
            raise InputError("step_s must be in (0, 0.5]: partials come at least every 0.5 s")
        if self.left_context_s < 0 or self.right_context_s < 0 or self.endpoint_silence_s <= 0:
            raise InputError("context and endpoint lengths must be positive")


@dataclass(frozen=True)
class StepWindow:
    """Audio for one encoder run; frames before ``skip_frames`` were decoded at an earlier step."""

    samples: Audio
    skip_frames: int
    final: bool


@dataclass(frozen=True)
class StreamEvent:
    type: str  # "partial" or "final"
    text: str
    words: list[Word] = field(default_factory=list)
    audio_end_s: float = 0.0  # how much of the stream's audio this event covers

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "text": self.text, "end": self.audio_end_s}
        if self.type == "final":
            body["words"] = [
                {"word": w.word, "start": w.start, "end": w.end, "confidence": w.confidence}
                for w in self.words
            ]
        return body


class StreamSession:
    """One stream: audio in, windows out, CTC frames back in, partials and finals out."""

    def __init__(self, vocabulary: Vocabulary, frame_s: float, options: StreamOptions) -> None:
        self.options = options
        self.vocabulary = vocabulary
        self.blank = vocabulary.blank
        self.frame_s = frame_s
        self.frame_samples = round(frame_s * SAMPLE_RATE)
        self.audio = np.zeros(0, dtype=np.float32)  # the current utterance's audio
        self.offset_s = 0.0  # where the current utterance starts in the stream
        self.heard_s = 0.0
        self.decoded_samples = 0  # audio of the utterance whose frames are committed
        self.stepped_samples = 0  # audio of the utterance when the last step was taken
        self.committed: list[LogProbs] = []
        self.provisional: LogProbs | None = None

    @property
    def committed_frames(self) -> int:
        return sum(len(f) for f in self.committed)

    def push(self, samples: Audio) -> None:
        if self.heard_s + samples.size / SAMPLE_RATE > self.options.max_session_s:
            raise InputError(f"the stream is over the {self.options.max_session_s:.0f} s limit")
        self.audio = np.concatenate([self.audio, samples.astype(np.float32, copy=False)])
        self.heard_s += samples.size / SAMPLE_RATE

    def window(self, final: bool = False) -> StepWindow | None:
        """The next window to encode, or None until ``step_s`` of new audio has arrived."""
        if self.audio.size <= self.decoded_samples:
            return None
        if not final and self.audio.size - self.stepped_samples < self.options.step_s * SAMPLE_RATE:
            return None
        self.stepped_samples = self.audio.size
        left = min(self.decoded_samples, round(self.options.left_context_s * SAMPLE_RATE))
        left -= left % self.frame_samples
        start = self.decoded_samples - left
        return StepWindow(self.audio[start:], left // self.frame_samples, final)

    def accept(self, window: StepWindow, log_probs: LogProbs) -> list[StreamEvent]:
        """Take the window's frames; return a partial and, at an endpoint, a final."""
        fresh = log_probs[window.skip_frames :]
        hold = 0 if window.final else round(self.options.right_context_s / self.frame_s)
        keep = max(0, len(fresh) - hold)
        self.committed.append(fresh[:keep])
        self.provisional = fresh[keep:] if keep < len(fresh) else None
        self.decoded_samples = min(self.audio.size, self.committed_frames * self.frame_samples)
        if window.final:
            self.decoded_samples = self.audio.size
        frames = self._frames()
        tokens = greedy_tokens(frames, self.blank)
        events: list[StreamEvent] = []
        end_s = round(self.offset_s + self.audio.size / SAMPLE_RATE, 3)
        if window.final:
            final = self._finalize(frames, tokens)
            return [final] if final.text or self.offset_s == 0 else []
        silent = round(self.options.endpoint_silence_s / self.frame_s)
        committed = frames[: self.committed_frames]
        if (
            tokens
            and len(committed) > silent
            and (committed[-silent:].argmax(axis=1) == self.blank).all()
        ):
            events.append(self._finalize(committed, greedy_tokens(committed, self.blank)))
            return events
        events.append(StreamEvent("partial", self.vocabulary.text(tokens), audio_end_s=end_s))
        return events

    def _frames(self) -> LogProbs:
        parts = [*self.committed]
        if self.provisional is not None:
            parts.append(self.provisional)
        if not parts:
            return np.zeros((0, self.blank + 1), dtype=np.float32)
        return np.concatenate(parts)

    def _finalize(self, frames: LogProbs, tokens: list[int]) -> StreamEvent:
        decoded = words_from_tokens(frames, tokens, self.vocabulary, self.frame_s)
        words = [
            Word(
                w.word,
                round(w.start + self.offset_s, 3),
                round(w.end + self.offset_s, 3),
                w.confidence,
            )
            for w in decoded.words
        ]
        used = min(self.audio.size, len(frames) * self.frame_samples)
        end_s = round(self.offset_s + used / SAMPLE_RATE, 3)
        self.offset_s += used / SAMPLE_RATE
        self.audio = self.audio[used:]
        self.decoded_samples = 0
        self.stepped_samples = max(0, self.stepped_samples - used)
        self.committed = []
        self.provisional = None
        return StreamEvent("final", decoded.text, words, end_s)


class WindowEncoder:
    """Runs the windows of many sessions as one padded batch; returns each window's log-probs."""

    def __init__(self, model: AsrModel, device: str = "cpu") -> None:
        import torch

        if model.kind == "rnnt":
            raise InputError("streaming decodes CTC; this RNNT-only model has no CTC head")
        self.model = model
        self.device = torch.device(device)
        self.model.module.to(self.device).eval()

    def encode(self, windows: Sequence[Audio]) -> list[LogProbs]:
        import torch

        self.model.module.eval()
        longest = max(max(w.size for w in windows), SAMPLE_RATE // 10)
        signals = np.zeros((len(windows), longest), dtype=np.float32)
        for i, window in enumerate(windows):
            signals[i, : window.size] = window
        lengths = torch.tensor([max(w.size, 1) for w in windows], device=self.device)
        with torch.inference_mode():
            log_probs, frames = self.model.ctc_log_probs(
                torch.from_numpy(signals).to(self.device), lengths
            )
        posteriors = log_probs.float().cpu().numpy()
        counts = frames.cpu().tolist()
        return [posteriors[i, : int(counts[i])] for i in range(len(windows))]

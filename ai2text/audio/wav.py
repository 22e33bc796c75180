"""16-bit PCM WAV files: the one on-disk form of normalized audio (16 kHz mono)."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ai2text.errors import AudioDecodeError


def wav_bytes(samples: npt.NDArray[np.floating], sample_rate: int) -> bytes:
    """Float samples in [-1, 1] as a 16-bit mono PCM WAV file's bytes (clipping anything outside);
    reading divides by 32768, so a write-read round trip is exact to the nearest step."""
    pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(pcm.tobytes())
    return buffer.getvalue()


def write_wav(path: Path, samples: npt.NDArray[np.floating], sample_rate: int) -> None:
    """Write :func:`wav_bytes` to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(wav_bytes(samples, sample_rate))
    tmp.replace(path)


def read_wav(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    """Read a 16-bit mono PCM WAV written by :func:`write_wav` (other audio: use the transcoder)."""
    return _parse(str(path), path.name)


def wav_samples(data: bytes) -> npt.NDArray[np.float32]:
    """The samples of a 16 kHz WAV made by :func:`wav_bytes` (the stored audio blobs)."""
    samples, rate = _parse(io.BytesIO(data), "the WAV blob")
    if rate != 16000:
        raise AudioDecodeError(f"the WAV blob is {rate} Hz, not 16000 Hz")
    return samples


def _parse(source: str | io.BytesIO, name: str) -> tuple[npt.NDArray[np.float32], int]:
    try:
        with wave.open(source, "rb") as handle:
            if handle.getsampwidth() != 2 or handle.getnchannels() != 1:
                raise AudioDecodeError(f"{name} is not 16-bit mono PCM")
            frames = handle.readframes(handle.getnframes())
            rate = handle.getframerate()
    except (wave.Error, EOFError) as exc:
        raise AudioDecodeError(f"{name} is not a readable WAV file: {exc}") from exc
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0, rate

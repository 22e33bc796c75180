"""Any accepted audio format to 16 kHz mono float32, through an ffmpeg subprocess, under limits.

Audio from outside is untrusted, so the decoder:

- reads only local files and pipes (``-protocol_whitelist file,pipe``), never URLs;
- probes first and accepts only demuxers on an allow-list (so a playlist, a concat script or a
  video container posing as audio is refused), then decodes with that demuxer forced;
- refuses inputs over a size limit before starting, and audio over a duration limit both from the
  probe and, for formats whose duration is only estimated, by capping decoding with ``-t``;
- runs under a wall-clock timeout, and removes every temporary file it made.

Every refusal is an :class:`~ai2text.errors.AudioDecodeError` with a reason a person understands.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ai2text.config import AudioSettings
from ai2text.errors import AudioDecodeError

SAMPLE_RATE = 16_000

# ffmpeg demuxer names we accept, by the names its probe reports.
ALLOWED_FORMATS = frozenset(
    {
        "wav",
        "mp3",
        "flac",
        "ogg",
        "aac",
        "mov,mp4,m4a,3gp,3g2,mj2",
        "matroska,webm",
        "amr",
        "mulaw",
        "alaw",
        "au",
        "aiff",
    }
)
_FORMAT = re.compile(r"^Input #0, ([^,]+(?:,[^,\s]+)*), from ", re.MULTILINE)
_DURATION = re.compile(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_AUDIO_STREAM = re.compile(r"Stream #0:\d+.*: Audio: ")
_VIDEO_STREAM = re.compile(r"Stream #0:\d+.*: Video: (?!mjpeg|png)")


def ffmpeg_binary(settings: AudioSettings) -> str:
    """The ffmpeg to run: the configured one, the imageio-ffmpeg wheel's, or the system's."""
    if settings.ffmpeg_path is not None:
        return str(settings.ffmpeg_path)
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if found is None:
            raise AudioDecodeError(
                "ffmpeg is not available: install the imageio-ffmpeg wheel or a system ffmpeg"
            ) from None
        return found


@dataclass(frozen=True)
class Probe:
    format: str
    duration_s: float | None


@dataclass(frozen=True)
class DecodedAudio:
    """16 kHz mono float32 samples in [-1, 1], with where they came from."""

    samples: npt.NDArray[np.float32]
    source_format: str
    source_duration_s: float | None

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _run(args: list[str], timeout_s: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            args, capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise AudioDecodeError(
            f"decoding took longer than {timeout_s:.0f} s and was stopped"
        ) from exc


_TEXT_MARKERS = (b"#EXTM3U", b"ffconcat", b"[playlist]", b"<?xml", b"<asx", b"file ")


def refuse_text(head: bytes) -> None:
    """Refuse text posing as audio (playlists, concat scripts) before ffmpeg ever parses it."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.lower().startswith(tuple(m.lower() for m in _TEXT_MARKERS)):
        raise AudioDecodeError(
            "the file is a playlist or concat script posing as audio; send the audio itself"
        )
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return
    if text and all(c.isprintable() or c in "\r\n\t" for c in text):
        raise AudioDecodeError("the file is text, not audio")


def probe(path: Path, settings: AudioSettings) -> Probe:
    """What ffmpeg sees in the file: its container format and duration (None when unknown)."""
    with open(path, "rb") as handle:
        refuse_text(handle.read(512))
    result = _run(
        [
            ffmpeg_binary(settings),
            "-hide_banner",
            "-nostdin",
            "-protocol_whitelist",
            "file,pipe",
            "-i",
            f"file:{path}",
        ],
        settings.decode_timeout_s,
    )
    info = result.stderr.decode("utf-8", "replace")
    match = _FORMAT.search(info)
    if match is None:
        if "Operation not permitted" in info:
            raise AudioDecodeError("the file refers to other files or URLs, which is refused")
        raise AudioDecodeError(f"not an audio file ffmpeg can read ({_last_error(info)})")
    fmt = match.group(1)
    if fmt not in ALLOWED_FORMATS:
        raise AudioDecodeError(
            f"format {fmt!r} is not accepted (playlists, concat scripts and video are refused); "
            "send wav, mp3, m4a/aac, flac, ogg/opus or telephone audio"
        )
    if not _AUDIO_STREAM.search(info):
        raise AudioDecodeError("the file holds no audio stream")
    if _VIDEO_STREAM.search(info):
        raise AudioDecodeError("the file holds video; send the audio track only")
    duration = _DURATION.search(info)
    seconds = None
    if duration is not None:
        h, m, s = duration.groups()
        seconds = int(h) * 3600 + int(m) * 60 + float(s)
    return Probe(fmt, seconds)


def _last_error(info: str) -> str:
    lines = [line.strip() for line in info.splitlines() if line.strip()]
    useful = [line for line in lines if "output file" not in line and not line.startswith("Use -h")]
    return useful[-1] if useful else "no details"


def decode_file(path: Path, settings: AudioSettings) -> DecodedAudio:
    """Decode a local file to 16 kHz mono float32, or raise AudioDecodeError."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioDecodeError(f"cannot read {path.name}: {exc.strerror}") from exc
    if not path.is_file():
        raise AudioDecodeError(f"{path.name} is not a regular file")
    if size == 0:
        raise AudioDecodeError("the file is empty")
    if size > settings.max_input_bytes:
        raise AudioDecodeError(
            f"the file is {size / 2**20:.1f} MiB, over the "
            f"{settings.max_input_bytes / 2**20:.0f} MiB limit"
        )
    found = probe(path, settings)
    if found.format == "wav" and (shortfall := wav_shortfall(path)) is not None:
        declared, present = shortfall
        raise AudioDecodeError(
            f"the file is truncated: its header announces {declared} bytes of audio but it holds "
            f"{present}"
        )
    limit = settings.max_duration_s
    if found.duration_s is not None and found.duration_s > limit:
        raise AudioDecodeError(
            f"the audio lasts {found.duration_s:.1f} s, over the {limit:.0f} s limit"
        )
    result = _run(
        [
            ffmpeg_binary(settings),
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-protocol_whitelist",
            "file,pipe",
            "-f",
            found.format.split(",")[0],
            "-i",
            f"file:{path}",
            "-t",
            f"{limit + 1.0:.3f}",
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-f",
            "s16le",
            "-acodec",
            "pcm_s16le",
            "pipe:1",
        ],
        settings.decode_timeout_s,
    )
    errors = result.stderr.decode("utf-8", "replace").strip()
    if result.returncode != 0:
        raise AudioDecodeError(f"ffmpeg could not decode the audio: {_last_error(errors)}")
    samples = np.frombuffer(result.stdout, dtype="<i2").astype(np.float32) / 32768.0
    decoded = DecodedAudio(samples, found.format, found.duration_s)
    if decoded.duration_s == 0:
        raise AudioDecodeError("the file decodes to no audio (truncated or empty stream)")
    if decoded.duration_s > limit:
        raise AudioDecodeError(f"the audio lasts more than the {limit:.0f} s limit")
    if found.duration_s is not None and decoded.duration_s < 0.9 * found.duration_s - 0.2:
        raise AudioDecodeError(
            f"the file is truncated: it announces {found.duration_s:.1f} s of audio "
            f"but holds {decoded.duration_s:.1f} s"
        )
    if errors and _looks_corrupt(errors):
        raise AudioDecodeError(f"the audio is damaged: {_last_error(errors)}")
    return decoded


def wav_shortfall(path: Path) -> tuple[int, int] | None:
    """(declared, present) bytes of a WAV's data chunk when fewer are present than declared.

    ffmpeg takes a WAV's duration from the file size, so a WAV cut short would pass as a shorter
    file; the RIFF header still says how much audio there should be.
    """
    import struct

    with open(path, "rb") as handle:
        if handle.read(4) != b"RIFF" or len(handle.read(4)) != 4 or handle.read(4) != b"WAVE":
            return None
        while True:
            header = handle.read(8)
            if len(header) < 8:
                return None
            chunk, size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"data":
                if size in (0, 0xFFFFFFFF):  # streaming writers leave the size open
                    return None
                start = handle.tell()
                present = handle.seek(0, 2) - start
                return (size, present) if present < size else None
            handle.seek(size + (size & 1), 1)


def _looks_corrupt(errors: str) -> bool:
    markers = ("Invalid data", "invalid", "corrupt", "truncat", "Error while decoding", "error")
    return any(marker in errors for marker in markers)


def _native_wav(
    source: Path | io.BytesIO, size: int, settings: AudioSettings, name: str
) -> DecodedAudio | None:
    """A complete plain WAV already in our format (16-bit mono 16 kHz) read without ffmpeg, under
    the same limits; None for anything else (another format, or a truncated file), which the
    transcoder then decodes and explains."""
    import wave

    try:
        with wave.open(str(source) if isinstance(source, Path) else source, "rb") as handle:
            native = (
                handle.getframerate() == SAMPLE_RATE
                and handle.getnchannels() == 1
                and handle.getsampwidth() == 2
                and handle.getcomptype() == "NONE"
            )
            if not native:
                return None
            frames = handle.getnframes()
            duration = frames / SAMPLE_RATE
            if size > settings.max_input_bytes or duration > settings.max_duration_s:
                raise AudioDecodeError(
                    f"{name} is over the limits ({duration:.0f} s, "
                    f"{settings.max_duration_s:.0f} s allowed)"
                )
            data = handle.readframes(frames)
            if frames > 0 and len(data) == frames * 2:
                samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
                return DecodedAudio(samples, "wav", duration)
    except (wave.Error, EOFError, OSError):
        pass
    return None


def load_audio(path: Path, settings: AudioSettings) -> DecodedAudio:
    """Our own normalized WAV (16-bit mono 16 kHz) is read directly; anything else is decoded."""
    size = path.stat().st_size if path.is_file() else 0
    native = _native_wav(path, size, settings, path.name)
    return native if native is not None else decode_file(path, settings)


def decode_bytes(data: bytes, settings: AudioSettings, filename: str = "upload") -> DecodedAudio:
    """Decode audio held in memory (an upload); the temporary file is always removed."""
    if not data:
        raise AudioDecodeError("the file is empty")
    if len(data) > settings.max_input_bytes:
        raise AudioDecodeError(
            f"the file is {len(data) / 2**20:.1f} MiB, over the "
            f"{settings.max_input_bytes / 2**20:.0f} MiB limit"
        )
    native = _native_wav(io.BytesIO(data), len(data), settings, filename)
    if native is not None:
        return native
    suffix = (
        Path(filename).suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", Path(filename).suffix) else ""
    )
    with tempfile.TemporaryDirectory(prefix="ai2text-decode-") as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        return decode_file(path, settings)

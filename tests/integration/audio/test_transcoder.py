"""Real ffmpeg on real files: every accepted format decodes; every bad input says why."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from ai2text.audio.transcoder import SAMPLE_RATE, decode_bytes, decode_file, ffmpeg_binary
from ai2text.config import AudioSettings
from ai2text.errors import AudioDecodeError

SETTINGS = AudioSettings(max_duration_s=60)
FORMATS = {
    "speech.wav": ["-c:a", "pcm_s16le", "-ar", "44100", "-ac", "2"],
    "speech.mp3": ["-c:a", "libmp3lame"],
    "speech.m4a": ["-c:a", "aac"],
    "speech.aac": ["-c:a", "aac", "-f", "adts"],
    "speech.flac": ["-c:a", "flac"],
    "speech.ogg": ["-c:a", "libvorbis"],
    "speech.opus": ["-c:a", "libopus"],
    "phone-mulaw.wav": ["-ar", "8000", "-c:a", "pcm_mulaw"],
    "phone-8k.wav": ["-ar", "8000", "-c:a", "pcm_s16le"],
}


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(SETTINGS), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    # 3 s of a 300 Hz tone with a 1 s silence in the middle: easy to check after decoding
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=300:duration=1", "-f", "lavfi", "-i",
        "anullsrc=r=16000:cl=mono:d=1", "-f", "lavfi", "-i", "sine=frequency=300:duration=1",
        "-filter_complex", "[0][1][2]concat=n=3:v=0:a=1", "-ar", "16000", str(folder / "src.wav"),
    )  # fmt: skip
    for name, options in FORMATS.items():
        ffmpeg("-i", str(folder / "src.wav"), *options, str(folder / name))
    ffmpeg("-f", "lavfi", "-i", "sine=duration=5", str(folder / "five-seconds.wav"))
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=duration=2:size=64x64", "-f", "lavfi", "-i",
        "sine=duration=2", "-shortest", str(folder / "video.mp4"),
    )  # fmt: skip
    return folder


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_decodes_to_16k_mono(media: Path, name: str) -> None:
    audio = decode_file(media / name, SETTINGS)
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.duration_s == pytest.approx(3.0, abs=0.08)
    first, middle = audio.samples[4000:12000], audio.samples[20000:28000]
    assert float(np.sqrt(np.mean(first**2))) > 0.05  # the tone survived
    assert float(np.sqrt(np.mean(middle**2))) < 0.01  # and so did the silence


def test_bytes_decode_the_same_and_leave_no_temp_files(media: Path, tmp_path: Path) -> None:
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("ai2text-decode-*"))
    from_bytes = decode_bytes((media / "speech.flac").read_bytes(), SETTINGS, "x.flac")
    assert np.array_equal(from_bytes.samples, decode_file(media / "speech.flac", SETTINGS).samples)
    assert set(Path(tempfile.gettempdir()).glob("ai2text-decode-*")) == before


def truncated(media: Path, tmp_path: Path, name: str) -> Path:
    data = (media / name).read_bytes()
    path = tmp_path / f"truncated-{name}"
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("name", ["speech.wav", "speech.mp3", "speech.flac", "speech.m4a"])
def test_truncated_files_are_refused(media: Path, tmp_path: Path, name: str) -> None:
    with pytest.raises(AudioDecodeError, match=r"truncated|damaged|not an audio file"):
        decode_file(truncated(media, tmp_path, name), SETTINGS)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"hello, this is a text file and not audio\n", "text, not audio"),
        (b"#EXTM3U\n#EXTINF:10,\nhttp://example.invalid/a.mp3\n", "playlist"),
        (b"ffconcat version 1.0\nfile /etc/passwd\n", "concat"),
        (bytes(range(256)) * 64, "not an audio file"),
    ],
)
def test_bad_content_is_refused_with_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "upload.mp3"
    path.write_bytes(content)
    with pytest.raises(AudioDecodeError, match=reason):
        decode_file(path, SETTINGS)


def test_video_is_refused(media: Path) -> None:
    with pytest.raises(AudioDecodeError, match="video"):
        decode_file(media / "video.mp4", SETTINGS)


def test_limits(media: Path) -> None:
    with pytest.raises(AudioDecodeError, match="over the 4 s limit"):
        decode_file(media / "five-seconds.wav", AudioSettings(max_duration_s=4))
    with pytest.raises(AudioDecodeError, match="MiB limit"):
        decode_bytes(bytes(2048), AudioSettings(max_input_bytes=1024))
    with pytest.raises(AudioDecodeError, match="cannot read"):
        decode_file(media / "missing.wav", SETTINGS)


def test_our_wav_is_read_directly_and_others_are_decoded(media: Path, tmp_path: Path) -> None:
    from ai2text.audio.transcoder import load_audio
    from ai2text.audio.wav import write_wav

    native = tmp_path / "native.wav"
    samples = (0.25 * np.sin(np.arange(16000) / 10)).astype(np.float32)
    write_wav(native, samples, 16000)
    direct = load_audio(native, SETTINGS)
    assert direct.samples.size == 16000
    assert np.allclose(direct.samples, samples, atol=0.5 / 32768)
    assert load_audio(media / "speech.mp3", SETTINGS).duration_s == pytest.approx(3.0, abs=0.08)
    with pytest.raises(AudioDecodeError, match="over the limits"):
        load_audio(native, AudioSettings(max_duration_s=0.5))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(native.read_bytes()[:1000])
    with pytest.raises(AudioDecodeError, match="truncated"):
        load_audio(broken, SETTINGS)


def test_uploads_of_our_wav_skip_ffmpeg_under_the_same_limits(media: Path, tmp_path: Path) -> None:
    from ai2text.audio.wav import write_wav

    native = tmp_path / "native.wav"
    samples = (0.25 * np.sin(np.arange(8000) / 7)).astype(np.float32)
    write_wav(native, samples, 16000)
    no_ffmpeg = AudioSettings(ffmpeg_path=Path("/bin/false"))  # any use of it fails
    direct = decode_bytes(native.read_bytes(), no_ffmpeg, "clip.wav")
    assert np.allclose(direct.samples, samples, atol=0.5 / 32768)
    assert direct.duration_s == pytest.approx(0.5)
    with pytest.raises(AudioDecodeError, match="over the limits"):
        decode_bytes(native.read_bytes(), AudioSettings(max_duration_s=0.25), "clip.wav")
    with pytest.raises(AudioDecodeError):  # anything else still needs the transcoder
        decode_bytes((media / "phone-8k.wav").read_bytes(), no_ffmpeg, "phone.wav")
    cut = native.read_bytes()[: 44 + 4000]
    with pytest.raises(AudioDecodeError, match="truncated"):
        decode_bytes(cut, SETTINGS, "cut.wav")


@pytest.mark.parametrize("name", ["speech.wav", "phone-mulaw.wav", "phone-8k.wav"])
def test_a_wav_cut_on_a_sample_boundary_is_still_truncated(
    media: Path, tmp_path: Path, name: str
) -> None:
    # regression: ffmpeg sizes a WAV by its file, so a clean cut looked like a shorter file
    data = (media / name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: 44 + ((len(data) - 44) // 2 // 4) * 4])
    with pytest.raises(AudioDecodeError, match="truncated"):
        decode_file(cut, SETTINGS)

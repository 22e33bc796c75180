"""A binding to libespeak-ng (from the espeakng-loader wheel, or the system's) through ctypes.

The library keeps global state, so one :class:`Espeak` per process; ``synth`` parallelises with
processes. Output is the library's native rate (22,050 Hz) as float32.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ai2text.audio.voices import VARIANTS, VOICES
from ai2text.errors import Ai2TextError, InputError

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class EspeakError(Ai2TextError):
    """espeak-ng is missing or refused a request."""

    code = "espeak"


def _locate() -> tuple[str, str | None]:
    """The library and the folder holding espeak-ng-data (None: the library's default)."""
    try:
        import espeakng_loader

        return espeakng_loader.get_library_path(), os.path.dirname(espeakng_loader.get_data_path())
    except ImportError:
        found = ctypes.util.find_library("espeak-ng")
        if found is None:
            raise EspeakError(
                "espeak-ng is not available: install the espeakng-loader wheel or Debian's "
                "espeak-ng"
            ) from None
        return found, None


@dataclass(frozen=True)
class VoiceSettings:
    voice: str = "vi"
    variant: str | None = None
    rate_wpm: int = 160
    pitch: int = 50
    pitch_range: int = 50

    def __post_init__(self) -> None:
        if self.voice not in VOICES:
            raise InputError(f"unknown voice {self.voice!r}; use one of {', '.join(VOICES)}")
        if self.variant is not None and self.variant not in VARIANTS:
            raise InputError(f"unknown variant {self.variant!r}; use one of {', '.join(VARIANTS)}")
        if not 80 <= self.rate_wpm <= 450:
            raise InputError("rate must be 80 to 450 words per minute")
        if not (0 <= self.pitch <= 100 and 0 <= self.pitch_range <= 100):
            raise InputError("pitch and pitch range must be 0 to 100")

    @property
    def name(self) -> str:
        return self.voice if self.variant is None else f"{self.voice}+{self.variant}"


class Espeak:
    """espeak-ng in synchronous mode, collecting samples through its callback."""

    def __init__(self) -> None:
        library, data = _locate()
        self._lib: Any = ctypes.CDLL(library)
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._callback = _Callback(self._collect)  # kept alive as long as self
        self._lib.espeak_Initialize.restype = ctypes.c_int
        rate = self._lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode() if data else None, 0
        )
        if rate <= 0:
            raise EspeakError(f"espeak-ng failed to start (data folder {data})")
        self.sample_rate = int(rate)
        self._lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def speak(self, text: str, voice: VoiceSettings) -> npt.NDArray[np.float32]:
        """Float32 samples at :attr:`sample_rate` for ``text`` in ``voice``."""
        if self._lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise EspeakError(f"espeak-ng has no voice {voice.name}")
        for parameter, value in (
            (_RATE, voice.rate_wpm),
            (_PITCH, voice.pitch),
            (_RANGE, voice.pitch_range),
            (_VOLUME, 100),
        ):
            self._lib.espeak_SetParameter(parameter, value, 0)
        self._chunks = []
        encoded = text.encode("utf-8")
        status = self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
        self._lib.espeak_Synchronize()
        if status != 0:
            raise EspeakError(f"espeak-ng could not speak the text (status {status})")
        if not self._chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._chunks).astype(np.float32) / 32768.0

    def version(self) -> str:
        self._lib.espeak_Info.restype = ctypes.c_char_p
        return str(self._lib.espeak_Info(None).decode())

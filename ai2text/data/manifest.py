"""NeMo manifests: one JSON object per line with ``audio_filepath``, ``text``, ``duration`` and,
in ours, ``speaker``. Relative audio paths are taken from the manifest's folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai2text.errors import InputError


@dataclass(frozen=True)
class ManifestRow:
    audio_filepath: str
    text: str
    duration: float
    speaker: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "audio_filepath": self.audio_filepath,
            "text": self.text,
            "duration": self.duration,
        }
        if self.speaker is not None:
            body["speaker"] = self.speaker
        return {**self.extra, **body}


def parse_row(body: dict[str, Any], folder: Path | None = None) -> ManifestRow:
    try:
        audio = Path(str(body["audio_filepath"]))
        text = str(body["text"])
        duration = float(body["duration"]) if "duration" in body else -1.0
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a manifest row ({exc})") from exc
    if folder is not None and not audio.is_absolute():
        audio = folder / audio
    speaker = body.get("speaker")
    extra = {
        k: v for k, v in body.items() if k not in {"audio_filepath", "text", "duration", "speaker"}
    }
    return ManifestRow(str(audio), text, duration, None if speaker is None else str(speaker), extra)


def read_manifest(path: Path) -> list[ManifestRow]:
    """Every row of a manifest; a malformed line raises InputError naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read manifest {path}: {exc}") from exc
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(parse_row(json.loads(line), path.parent))
        except (ValueError, InputError) as exc:
            raise InputError(f"{path}:{number}: {exc}") from exc
    if not rows:
        raise InputError(f"manifest {path} is empty")
    return rows


def write_manifest(path: Path, rows: Iterable[ManifestRow]) -> int:
    """Write rows atomically; return how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    count = 0
    with open(tmp, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    return count

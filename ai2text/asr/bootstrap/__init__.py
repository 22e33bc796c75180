"""The bootstrap model shipped with ai2text: a ``tiny`` FastConformer CTC the platform trained on
synthetic Vietnamese speech (see ``MODEL_CARD.md`` beside it for the command, data and figures).

The registry adopts it as the first production version when it has none, so ``transcribe``,
``eval`` and ``make run`` work on a fresh installation without downloading anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class BundledModel:
    """A model file shipped with the package, its registry version and its measured figures."""

    version: str
    path: Path
    metrics: dict[str, Any]


def bundled_bootstrap() -> BundledModel | None:
    """The bootstrap model, or None where the package was installed without it."""
    path = _FOLDER / "model.nemo"
    if not path.is_file():
        return None
    card = json.loads((_FOLDER / "metrics.json").read_text(encoding="utf-8"))
    return BundledModel(version=str(card["version"]), path=path, metrics=dict(card["metrics"]))

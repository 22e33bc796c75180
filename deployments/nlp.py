"""Text post-processing replicas: ASR output made readable (NFC, fillers dropped, numbers, dates,
times, money and measures written as such), with the corrections and their offsets, by
:func:`ai2text.text.postprocess.postprocess` under the configured reading conventions."""

from __future__ import annotations

from typing import Any

from ray import serve

from ai2text.config import load_settings
from ai2text.text.postprocess import postprocess


@serve.deployment(name="nlp", ray_actor_options={"num_cpus": 0})
class TextPostprocess:
    def __init__(self) -> None:
        self.settings = load_settings().text

    async def clean(self, text: str) -> dict[str, Any]:
        """``{"text_clean", "corrections": [{start, end, original, replacement, kind}]}``."""
        return postprocess(text, self.settings).to_json()

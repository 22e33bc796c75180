"""Text post-processing replicas: Unicode NFC and whitespace for now; the Vietnamese text issue
(normalization, diacritics, corrections) plugs its steps in here."""

from __future__ import annotations

import unicodedata

from ray import serve


def postprocess(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


@serve.deployment(name="nlp", ray_actor_options={"num_cpus": 0})
class TextPostprocess:
    async def clean(self, text: str) -> str:
        return postprocess(text)

"""Post-processing of ASR output for display: NFC, fillers dropped, numbers, dates, times, money
and measures written as such, with every change reported as a correction with its offsets.

The serving ``nlp`` deployment and the pipeline's post-process stage call :func:`postprocess`;
the conventions come from :class:`ai2text.config.TextSettings`.
"""

from __future__ import annotations

from functools import lru_cache

from ai2text.config import TextSettings
from ai2text.text.itn import InverseNormalizer, ItnOptions
from ai2text.text.normalize import NormalizeOptions, Normalizer
from ai2text.text.numbers import Conventions
from ai2text.text.rewrite import Rewritten


def conventions(settings: TextSettings) -> Conventions:
    return Conventions(
        linh=settings.linh,
        thousand=settings.thousand,
        billion=settings.billion,
        four_after_tens=settings.four_after_tens,
        zero_hundreds=settings.zero_hundreds,
        fraction_as_number=settings.fraction_as_number,
        decimal_mark=settings.decimal_mark,
    )


@lru_cache(maxsize=8)
def inverse_normalizer(settings: TextSettings, remove_fillers: bool) -> InverseNormalizer:
    return InverseNormalizer(ItnOptions(conventions(settings), remove_fillers=remove_fillers))


@lru_cache(maxsize=8)
def normalizer(settings: TextSettings, remove_fillers: bool = False) -> Normalizer:
    return Normalizer(NormalizeOptions(conventions(settings), remove_fillers=remove_fillers))


def postprocess(text: str, settings: TextSettings | None = None) -> Rewritten:
    """``"ừm giá là hai mươi nghìn đồng"`` -> ``"giá là 20000 đồng"`` with two corrections."""
    settings = settings or TextSettings()
    return inverse_normalizer(settings, settings.remove_fillers).rewrite(text)

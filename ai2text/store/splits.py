"""Speaker-level splits: which of train, val and test a speaker belongs to, for good.

The database assigns the split (``ai2text_split_for`` in the foundation migration) on a speaker's
first recording and refuses any later recording that names another split. This module computes the
same bucket in Python, for reports and for checking that both sides agree.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from ai2text.config import SplitPolicy

Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")


def speaker_bucket(speaker_id: str) -> int:
    """0..99 from the first 32 bits of SHA-256 of the speaker id (same as the SQL function)."""
    digest = hashlib.sha256(speaker_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100


def split_for(speaker_id: str, policy: SplitPolicy) -> Split:
    """The split a new speaker is assigned to under ``policy``."""
    bucket = speaker_bucket(speaker_id)
    if bucket < policy.train_percent:
        return "train"
    if bucket < policy.train_percent + policy.val_percent:
        return "val"
    return "test"

"""Importing NeMo quietly and offline: one place sets the environment NeMo reads at import.

NeMo never needs the network here (models are built from config or loaded from local files); the
hub is switched off so nothing ever tries. Its loggers are turned down to warnings.
"""

from __future__ import annotations

import logging
import os
from types import ModuleType


def import_nemo_asr() -> ModuleType:
    """``nemo.collections.asr``, imported with the hub offline and quiet loggers."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault(
        "NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "numba")
    )
    logging.getLogger("nv_one_logger").setLevel(logging.ERROR)
    import nemo.collections.asr as nemo_asr
    from nemo.utils import logging as nemo_logging

    nemo_logging.setLevel(logging.ERROR)
    module: ModuleType = nemo_asr
    return module

"""glibc malloc tuned for training: keep freed memory for reuse instead of handing it back.

A training step allocates and frees activations of tens of megabytes. By default glibc serves
those with fresh ``mmap`` chunks and per-thread arenas and returns them on free, so every step
page-faults the same memory in again: about 200,000 minor faults/s and 28 % of the CPU in the
kernel on the bootstrap run. One arena, no mmap chunks and no trimming keep the pages mapped;
the resident set stays at its peak instead. Measured on 2 cores, ``tiny`` preset, 90 s batches:
0.90 s/step before, 0.65 s/step after.

Arenas that threads already made cannot be undone in a running process, so processes started
for training (Ray workers, whose runtime starts threads before any of our code runs) get the arena
limit as a glibc tunable in their environment and the rest from ``keep_freed_memory``.
"""

from __future__ import annotations

import ctypes
import sys

# (glibc tunable, mallopt option, value)
_SETTINGS = (
    ("arena_max", -8, 1),
    ("mmap_max", -4, 0),
    ("trim_threshold", -1, 1 << 40),
    ("top_pad", -2, 256 << 20),
)


def keep_freed_memory() -> bool:
    """Apply the settings to this process; False where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    applied = [mallopt(option, value) == 1 for _, option, value in _SETTINGS]
    return all(applied)


def training_process_env() -> dict[str, str]:
    """Environment for a process started to train: one arena from its first malloc."""
    name, _, value = _SETTINGS[0]
    return {"GLIBC_TUNABLES": f"glibc.malloc.{name}={value}"}

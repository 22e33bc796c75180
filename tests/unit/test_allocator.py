"""The allocator settings really change where glibc puts memory (checked in fresh processes)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ai2text.allocator import training_process_env

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

HEAP_SIZE = """
import sys
from ai2text.allocator import keep_freed_memory
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
import numpy as np
block = np.ones(64 << 20, dtype=np.uint8)  # 64 MiB: an mmap chunk by default
heap = 0
for line in open("/proc/self/maps"):
    if line.rstrip().endswith("[heap]"):
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        heap += end - start
print(heap)
"""

ARENAS = """
import ctypes
import os
import tempfile
import threading
import numpy as np
keep = []
def work():
    keep.append([np.ones(200_000, dtype=np.uint8) for _ in range(50)])  # below the mmap threshold
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL("libc.so.6")
libc.fdopen.restype = ctypes.c_void_p
libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.TemporaryFile() as report:
    stream = libc.fdopen(os.dup(report.fileno()), b"w")
    assert libc.malloc_info(0, stream) == 0
    libc.fclose(stream)
    report.seek(0)
    print(report.read().decode().count("<heap nr="))  # glibc's own list of its arenas
"""


def run(code: str, *args: str, env: dict[str, str] | None = None) -> int:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, **(env or {})}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(result.stdout.strip())


def test_tuned_process_serves_large_blocks_from_the_heap() -> None:
    assert run(HEAP_SIZE, "default") < 64 << 20
    assert run(HEAP_SIZE, "tuned") >= 64 << 20


def test_training_env_keeps_threads_in_one_arena() -> None:
    assert run(ARENAS) >= 2
    assert run(ARENAS, env=training_process_env()) == 1

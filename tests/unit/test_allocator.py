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
import threading
import numpy as np
keep = []
def work():
    keep.append([np.ones(200_000, dtype=np.uint8) for _ in range(50)])  # below the mmap threshold
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
arenas = 0
for line in open("/proc/self/maps"):
    fields = line.split()
    start, end = (int(x, 16) for x in fields[0].split("-"))
    if len(fields) == 5 and start % (64 << 20) == 0 and end - start <= 64 << 20:
        arenas += 1
print(arenas)
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
    assert run(ARENAS) >= 1
    assert run(ARENAS, env=training_process_env()) == 0

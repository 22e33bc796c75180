"""The allocator settings really change where glibc puts memory (checked in fresh processes)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ai2text.allocator import TORCH_CPU_ENV, training_process_env

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


TORCH_FAULTS = """
import resource, sys
if sys.argv[1] == "tuned":
    from ai2text.allocator import tune_process
    tune_process()
import torch
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    torch.ones(16 << 20).sum()  # 64 MiB, allocated and freed ten times
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

CLI_ENV = """
import os
from ai2text.cli.main import main
assert main(["text", "normalize"]) == 0
print(int(os.environ["OMP_WAIT_POLICY"] == "PASSIVE" and os.environ["THP_MEM_ALLOC_ENABLE"] == "1"))
"""


def run(code: str, *args: str, env: dict[str, str] | None = None) -> int:
    untuned = {k: v for k, v in os.environ.items() if k not in TORCH_CPU_ENV}
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**untuned, **(env or {})}, capture_output=True, text=True, check=True, input="",
    )  # fmt: skip
    return int(result.stdout.strip())


def test_tuned_process_serves_large_blocks_from_the_heap() -> None:
    assert run(HEAP_SIZE, "default") < 64 << 20
    assert run(HEAP_SIZE, "tuned") >= 64 << 20


def test_training_env_keeps_threads_in_one_arena() -> None:
    assert run(ARENAS) >= 2
    assert run(ARENAS, env=training_process_env()) == 1


def test_tuned_torch_process_does_not_fault_its_tensors_in_again() -> None:
    default = run(TORCH_FAULTS, "default")
    assert default >= 10 * (64 << 20) // 4096 // 2  # every 64 MiB tensor faulted in anew
    assert run(TORCH_FAULTS, "tuned") < default // 10


def test_the_cli_sets_the_torch_environment_and_keeps_the_callers() -> None:
    assert run(CLI_ENV) == 1
    assert run(CLI_ENV, env={"OMP_WAIT_POLICY": "ACTIVE"}) == 0

"""``ai2text serve`` in a child process on a free loopback port, for benchmarks and tests.

The child is the real platform (local Ray, the Serve app, the embedded stores); it is ready when
it prints its banner and ``/health`` answers, and it is stopped with SIGINT, as Ctrl-C would.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ai2text.errors import StorageError

READY_LINE = "Ctrl-C stops everything"


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServeProcess:
    url: str
    log: Path
    returncode: int | None = field(default=None)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _wait_ready(server: ServeProcess, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StorageError(
                f"ai2text serve exited with {process.returncode}:\n{server.log_tail()}"
            )
        if READY_LINE in server.log.read_text(errors="replace"):
            with urllib.request.urlopen(f"{server.url}/health", timeout=10) as response:  # noqa: S310
                if json.loads(response.read()).get("status") == "ok":
                    return
        time.sleep(0.5)
    raise StorageError(f"ai2text serve not ready in {timeout_s:.0f} s:\n{server.log_tail()}")


@contextmanager
def serve_process(
    env: Mapping[str, str], log: Path, ready_timeout_s: float = 300.0
) -> Iterator[ServeProcess]:
    """Start ``ai2text serve`` with ``env`` on a free port; stop it with SIGINT on exit.

    ``returncode`` is set once the child has stopped (a child that ignores SIGINT for 90 s is
    killed and the error raised).
    """
    port = free_loopback_port()
    server = ServeProcess(url=f"http://127.0.0.1:{port}", log=log)
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ai2text.cli.main", "serve", "--port", str(port)],
            env=dict(env), stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_ready(server, process, ready_timeout_s)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            server.returncode = process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

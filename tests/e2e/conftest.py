"""End-to-end on a real cluster (kind, k3d, ...): opt in with `pytest --with-e2e tests/e2e`.

The cluster is the current kubeconfig context. Environment:
- AI2TEXT_E2E_OPERATOR_IMAGE: the operator image the cluster can pull or already has
  (`kind load docker-image ...`); default ghcr.io/ai2text/ai2text-operator:<appVersion>.
- AI2TEXT_E2E_DATABASE_URL: a PostgreSQL URL reachable from the cluster; without it the
  operator reports Ready=False on the Dataset (the database is unreachable), which still shows
  the whole control loop working.
- AI2TEXT_E2E_TIMEOUT_S: how long to wait for the operator and the Dataset's status (300).
- AI2TEXT_E2E_KEEP_NAMESPACE=1: leave the namespace for inspection.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "ai2text"


@dataclass(frozen=True)
class Cluster:
    kubectl: str
    namespace: str
    timeout_s: float

    def run(self, *args: str, check: bool = True, stdin: str | None = None) -> str:
        proc = subprocess.run(
            [self.kubectl, "--namespace", self.namespace, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=self.timeout_s + 30,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def get(self, *args: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.run("get", *args, "-o", "json"))
        return loaded

    def has_crd(self, name: str) -> bool:
        proc = subprocess.run(
            [self.kubectl, "get", "crd", name], capture_output=True, text=True, timeout=30
        )
        return proc.returncode == 0


@pytest.fixture(scope="session")
def kubectl() -> str:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed: the end-to-end tests need a kind or k3d cluster")
    try:
        proc = subprocess.run(
            [binary, "version", "--request-timeout=5s", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("no Kubernetes cluster answered within 20 s (current kubeconfig context)")
    if proc.returncode != 0 or "serverVersion" not in proc.stdout:
        detail = (proc.stderr.strip().splitlines() or ["no server version"])[-1]
        pytest.skip(f"no Kubernetes cluster reachable from the current kubeconfig: {detail}")
    return binary


@pytest.fixture(scope="session")
def cluster(kubectl: str) -> Iterator[Cluster]:
    """A fresh namespace holding the Secrets the chart references; deleted afterwards."""
    namespace = f"ai2text-e2e-{secrets.token_hex(3)}"
    timeout_s = float(os.environ.get("AI2TEXT_E2E_TIMEOUT_S", "300"))
    subprocess.run([kubectl, "create", "namespace", namespace], check=True, timeout=60)
    here = Cluster(kubectl, namespace, timeout_s)
    database = os.environ.get(
        "AI2TEXT_E2E_DATABASE_URL", "postgresql://ai2text:unused@postgres.invalid:5432/ai2text"
    )
    here.run(
        "create",
        "secret",
        "generic",
        "ai2text-secrets",
        f"--from-literal=AI2TEXT_DATABASE_URL={database}",
        f"--from-literal=AI2TEXT_AUTH__JWT_SECRET={secrets.token_urlsafe(48)}",
    )
    try:
        yield here
    finally:
        if not os.environ.get("AI2TEXT_E2E_KEEP_NAMESPACE"):
            subprocess.run(
                [kubectl, "delete", "namespace", namespace, "--wait=false"],
                capture_output=True,
                timeout=120,
            )


def wait_for(what: str, probe: Any, timeout_s: float, every_s: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} (last: {last!r})")

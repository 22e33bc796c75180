"""A test cluster: the completed kmock emulator over HTTP, a kubeconfig for it, a small client,
and the operator (``ai2text operator run``) as a real process that a test can SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from ai2text.config import Settings
from tests.integration.operator.emulator import EmulatorThread

NAMESPACE = "default"
RESOURCES = [
    ("v1/namespaces", "Namespace", False, ""),
    ("v1/events", "Event", True, ""),
    ("ai2text.io/v1alpha1/datasets", "Dataset", True, "status"),
    ("ai2text.io/v1alpha1/trainingruns", "TrainingRun", True, "status"),
    ("ray.io/v1/rayjobs", "RayJob", True, "status"),
    ("ray.io/v1/rayservices", "RayService", True, "status"),
    ("kopf.dev/v1/kopfpeerings", "KopfPeering", True, ""),
]
PATHS = {
    "Dataset": "/apis/ai2text.io/v1alpha1/namespaces/{ns}/datasets",
    "TrainingRun": "/apis/ai2text.io/v1alpha1/namespaces/{ns}/trainingruns",
    "RayJob": "/apis/ray.io/v1/namespaces/{ns}/rayjobs",
    "RayService": "/apis/ray.io/v1/namespaces/{ns}/rayservices",
    "KopfPeering": "/apis/kopf.dev/v1/namespaces/{ns}/kopfpeerings",
    "Event": "/api/v1/namespaces/{ns}/events",
}


class Cluster:
    def __init__(self, emulator: EmulatorThread, kubeconfig: Path) -> None:
        self.emulator = emulator
        self.kubeconfig = kubeconfig
        self.http = httpx.Client(base_url=emulator.url, timeout=10)

    @staticmethod
    def _path(kind: str, name: str | None = None) -> str:
        base = PATHS[kind].format(ns=NAMESPACE)
        return f"{base}/{name}" if name else base

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "metadata": {**body["metadata"], "namespace": NAMESPACE}}
        answer = self.http.post(self._path(body["kind"]), json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        answer = self.http.get(self._path(kind, name))
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return dict(answer.json())

    def list(self, kind: str) -> list[dict[str, Any]]:
        answer = self.http.get(self._path(kind))
        answer.raise_for_status()
        return list(answer.json()["items"])

    def patch(self, kind: str, name: str, body: dict[str, Any]) -> None:
        answer = self.http.patch(
            self._path(kind, name),
            json=body,
            headers={"Content-Type": "application/merge-patch+json"},
        )
        answer.raise_for_status()

    def delete(self, kind: str, name: str) -> None:
        self.http.delete(self._path(kind, name)).raise_for_status()

    def events(self, name: str) -> list[str]:
        """Reasons of the events about the object ``name``, oldest first."""
        return [
            e.get("reason", "")
            for e in self.list("Event")
            if (e.get("involvedObject") or {}).get("name") == name
        ]

    def wait(self, what: str, probe: Callable[[], Any], timeout_s: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = probe()
            if found:
                return found
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}")


def write_kubeconfig(url: str, path: Path) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": {"server": url}}],
        "users": [{"name": "test", "user": {"token": "test-token"}}],
        "contexts": [
            {
                "name": "test",
                "context": {"cluster": "emulator", "user": "test", "namespace": NAMESPACE},
            }
        ],
        "current-context": "test",
    }
    path.write_text(yaml.safe_dump(config))
    return path


class OperatorProcess:
    """``ai2text operator run`` against the emulator; each start gets a higher peering priority,
    as a rolling update's new pod would, so it never waits for a killed predecessor's lease."""

    def __init__(self, cluster: Cluster, settings: Settings, log_dir: Path) -> None:
        assert settings.database_url is not None
        self.env = {
            **os.environ,
            "KUBECONFIG": str(cluster.kubeconfig),
            "AI2TEXT_HOME": str(settings.home),
            "AI2TEXT_DATABASE_URL": settings.database_url.get_secret_value(),
            "AI2TEXT_OPERATOR__POLL_S": "1",
            "AI2TEXT_OPERATOR__ENV_FROM_CONFIGMAPS": '["ai2text-config"]',
            "AI2TEXT_OPERATOR__ENV_FROM_SECRETS": '["ai2text-database", "ai2text-s3"]',
            "PYTHONUNBUFFERED": "1",
        }
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.log_dir / f"operator-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ai2text.cli.main", "operator", "run",
             "--namespace", NAMESPACE, "--priority", str(self.starts), "--verbose"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.log_dir.glob("operator-*.log"))
        )

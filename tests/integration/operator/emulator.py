"""kmock's Kubernetes API emulator, completed where kopf needs a real API server's behaviour.

kmock 0.8's stock ``KubernetesEmulator`` sets no ``resourceVersion``, ``uid``, ``generation`` or
``creationTimestamp``, ignores ``generateName`` and answers 200 on create. Without them kopf
re-runs handlers and its finalizer JSON-patches fail. :class:`ClusterEmulator` adds them, so
watch streams, handler progress across an operator restart, finalizers, events and peering work
as on a cluster. :class:`EmulatorThread` serves it over HTTP from a thread of the test process.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import secrets
import threading
import uuid
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

import aiohttp.web
import jsonpatch
import kmock

T = TypeVar("T")

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")


class ClusterEmulator(kmock.KubernetesEmulator):  # type: ignore[misc]
    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self._versions = itertools.count(1)
        # plural -> seconds to hold the answer to a create after storing the object: a test
        # kills the client in that window, as if it died between its request and the reply
        self.stall_creates: dict[str, float] = {}
        self.created: list[tuple[str, str]] = []  # (plural, name) in order

    def _stamp(self, request: kmock.Request) -> None:
        version = str(next(self._versions))
        if request.action == kmock.action.CREATE:
            meta = request.data.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
            now = datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            meta.update(uid=str(uuid.uuid4()), resourceVersion=version, generation=1)
            meta.setdefault("creationTimestamp", now)
        elif request.action == kmock.action.UPDATE:
            key = (request.resource, request.namespace, request.name)
            current = self.objects[key] if key in self.objects else None  # noqa: SIM401 no .get()
            generation = (current or {}).get("metadata", {}).get("generation", 1)
            if isinstance(request.data, list):  # JSON patch
                if any(op.get("path", "").startswith("/spec") for op in request.data):
                    generation += 1
                request.data.append(
                    {"op": "add", "path": "/metadata/resourceVersion", "value": version}
                )
                request.data.append(
                    {"op": "add", "path": "/metadata/generation", "value": generation}
                )
            elif isinstance(request.data, dict):  # merge patch or full update
                if "spec" in request.data and request.subresource is None:
                    generation += 1
                meta = request.data.setdefault("metadata", {})
                meta.update(resourceVersion=version, generation=generation)

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        if request.resource is not None and isinstance(request.data, dict | list):
            self._stamp(request)
        try:
            response = await super()._handle(request)
        except jsonpatch.JsonPatchTestFailed as exc:  # a stale resourceVersion, as a server says
            raise kmock.KubernetesError(status=422, reason="Invalid", message=str(exc)) from exc
        if request.action == kmock.action.CREATE and response.status == 200:
            response.set_status(201)
            assert request.resource is not None
            plural = str(request.resource.plural)
            self.created.append((plural, request.data["metadata"]["name"]))
            await asyncio.sleep(self.stall_creates.get(plural, 0.0))
        return response


def register(emulator: ClusterEmulator, resources: Iterable[tuple[str, str, bool, str]]) -> None:
    """Declare ``(group/version/plural, kind, namespaced, subresources)`` resources."""
    for path, kind, namespaced, subresources in resources:
        emulator.resources[path] = kmock.ResourceInfo(
            kind=kind,
            namespaced=namespaced,
            verbs=set(VERBS),
            subresources={s for s in subresources.split(",") if s},
        )


class EmulatorThread:
    """The emulator on a loopback port, served by an event loop in a daemon thread."""

    def __init__(self, resources: Iterable[tuple[str, str, bool, str]]) -> None:
        self._resources = list(resources)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.emulator: ClusterEmulator | None = None
        self.url = ""
        self._thread = threading.Thread(target=self._run, name="k8s-emulator", daemon=True)

    def __enter__(self) -> EmulatorThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the Kubernetes emulator did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the emulator's loop (its state is only touched from there)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with ClusterEmulator() as emulator, kmock.Server(emulator) as server:
            register(emulator, self._resources)
            self.emulator = emulator
            self.url = str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

"""The operator's few Kubernetes API calls, with errors sorted into temporary and permanent.

A conflict on create means the deterministic child exists already (the operator was restarted
between creating it and recording it): the existing object is returned, never a second one.
Server errors and lost connections are temporary (kopf retries); refusals of a request (bad
request, forbidden, invalid) are permanent.
"""

from __future__ import annotations

from typing import Any

import kopf

TEMPORARY_DELAY_S = 10.0


class Kube:
    def __init__(self) -> None:
        from kubernetes import client, config

        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        except config.ConfigException:
            config.load_kube_config()  # type: ignore[no-untyped-call]
        self.api = client.CustomObjectsApi()

    def _fail(self, action: str, what: str, exc: Exception) -> Exception:
        from kubernetes.client.exceptions import ApiException

        if isinstance(exc, ApiException) and exc.status is not None and 400 <= exc.status < 500:
            if exc.status in {408, 409, 429}:
                return kopf.TemporaryError(
                    f"{action} {what}: {exc.status} {exc.reason}", delay=TEMPORARY_DELAY_S
                )
            return kopf.PermanentError(f"{action} {what}: {exc.status} {exc.reason}: {exc.body}")
        return kopf.TemporaryError(f"{action} {what}: {exc}", delay=TEMPORARY_DELAY_S)

    @staticmethod
    def _status(exc: Exception) -> int | None:
        from kubernetes.client.exceptions import ApiException

        return exc.status if isinstance(exc, ApiException) else None

    def get(self, group: str, version: str, namespace: str, plural: str, name: str) -> Any:
        """The object, or None when it does not exist."""
        try:
            return self.api.get_namespaced_custom_object(group, version, namespace, plural, name)
        except Exception as exc:
            if self._status(exc) == 404:
                return None
            raise self._fail("get", f"{plural}/{name}", exc) from exc

    def list(self, group: str, version: str, namespace: str, plural: str) -> list[dict[str, Any]]:
        try:
            found: Any = self.api.list_namespaced_custom_object(group, version, namespace, plural)
        except Exception as exc:
            raise self._fail("list", plural, exc) from exc
        items: list[dict[str, Any]] = found["items"]
        return items

    def create(
        self, group: str, version: str, namespace: str, plural: str, body: dict[str, Any]
    ) -> tuple[Any, bool]:
        """``(object, created)``: a name that exists gives the existing object, not an error."""
        name = body["metadata"]["name"]
        try:
            return self.api.create_namespaced_custom_object(
                group, version, namespace, plural, body
            ), True
        except Exception as exc:
            if self._status(exc) != 409:
                raise self._fail("create", f"{plural}/{name}", exc) from exc
        existing = self.get(group, version, namespace, plural, name)
        if existing is None:
            raise kopf.TemporaryError(f"{plural}/{name} conflicted but is gone", delay=1.0)
        return existing, False

    def patch(
        self, group: str, version: str, namespace: str, plural: str, name: str, body: dict[str, Any]
    ) -> Any:
        try:
            return self.api.patch_namespaced_custom_object(
                group, version, namespace, plural, name, body
            )
        except Exception as exc:
            raise self._fail("patch", f"{plural}/{name}", exc) from exc

    def delete(self, group: str, version: str, namespace: str, plural: str, name: str) -> bool:
        """Whether it existed."""
        try:
            self.api.delete_namespaced_custom_object(group, version, namespace, plural, name)
            return True
        except Exception as exc:
            if self._status(exc) == 404:
                return False
            raise self._fail("delete", f"{plural}/{name}", exc) from exc

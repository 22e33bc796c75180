"""Rendering the chart with the real Helm engine (helm_python binds Helm's Go SDK)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "ai2text"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
RELEASE = "ai2text"
NAMESPACE = "ai2text"

Render = Callable[..., list[dict[str, Any]]]


def values_of(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text()) or {}
    assert isinstance(loaded, dict), path
    return loaded


@pytest.fixture(scope="session")
def chart() -> Any:
    import helm_python

    loaded = helm_python.Chart.load(CHART)
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def render(chart: Any) -> Render:
    """Render with values (merged over values.yaml by Helm); the objects, NOTES.txt left out."""
    from tests.k8s_schemas import load_documents

    def _render(values: dict[str, Any] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        kwargs.setdefault("name", RELEASE)
        kwargs.setdefault("namespace", NAMESPACE)
        out = chart.render(values or {}, is_install=True, **kwargs)
        return [
            doc
            for template, text in sorted(out.items())
            if not template.endswith("NOTES.txt")
            for doc in load_documents(text)
        ]

    return _render


def one(objs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"{len(found)} {kind} objects named {name}: {[_n(o) for o in objs]}"
    return found[0]


def _n(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"

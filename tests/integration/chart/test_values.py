"""values.yaml documents every value, and values.schema.json is strict."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.integration.chart.conftest import CHART

KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-/]+):(?P<rest>.*)$")


def key_lines(text: str) -> dict[tuple[str, ...], tuple[bool, bool]]:
    """path -> (value on the same line, a comment right above) for every key of a block-style
    values file (flow values like {a: 1} or [..] count as one leaf)."""
    lines = text.splitlines()
    stack: list[tuple[int, str]] = []
    found: dict[tuple[str, ...], tuple[bool, bool]] = {}
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = KEY_LINE.match(line)
        assert match, (
            f"values.yaml:{number + 1}: expected `key:` (block lists are not used): {line}"
        )
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = (*(key for _, key in stack), match["key"])
        inline = match["rest"].split(" #")[0].strip() != ""
        above = lines[number - 1].strip() if number else ""
        found[path] = (inline, above.startswith("#"))
        if not inline:
            stack.append((indent, match["key"]))
    return found


def all_paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    if isinstance(value, dict):
        for key, child in value.items():
            paths.append((*prefix, str(key)))
            paths.extend(all_paths(child, (*prefix, str(key))))
    return paths


def test_every_leaf_value_has_a_comment_above_it() -> None:
    text = (CHART / "values.yaml").read_text()
    found = key_lines(text)
    leaves = [path for path, (inline, _) in found.items() if inline]
    assert len(leaves) > 80, len(leaves)
    undocumented = [".".join(p) for p in leaves if not found[p][1]]
    assert undocumented == []
    # the line reading saw exactly what YAML sees: every loaded key is a key line or inside a
    # one-line (flow) value, and every block key has children
    loaded = yaml.safe_load(text)
    for path in all_paths(loaded):
        assert path in found or any(path[:i] in leaves for i in range(1, len(path))), path
    for path, (inline, _) in found.items():
        if not inline:
            node = loaded
            for key in path:
                node = node[key]
            assert isinstance(node, dict) and node, path


def test_the_doc_check_finds_an_undocumented_value() -> None:
    found = key_lines("a:\n  # documented\n  b: 1\n  c: 2\n")
    assert found[("a", "b")] == (True, True)
    assert found[("a", "c")] == (True, False)


@pytest.mark.integration
def test_schema_accepts_the_defaults_and_rejects_unknown_keys(chart: Any) -> None:
    import helm_python

    chart.validate_schema({})
    bad = [
        {"bogus": 1},
        {"rayService": {"gpuWorker": {"enabled": False}}},  # a typo of gpuWorkers
        {"config": {"vectors": {"backend": "milvus"}}},
        {"serve": {"asr": {"minReplicas": 0}}},
        {"serve": {"asr": {"numGpus": -1}}},
        {"operator": {"replicas": 2}},
        {"rayService": {"name": "Not_A_Name"}},
        {"secrets": {"databaseUrl": {"name": "db", "key": ""}}},
        {"config": {"extraEnv": {"OTHER_VAR": "x"}}},
        {"image": {"ray": {"pullPolicy": "Sometimes"}}},
        {"service": {"port": 70000}},
    ]
    for values in bad:
        with pytest.raises(helm_python.HelmValuesError):
            chart.validate_schema(values)


def test_schema_is_strict_everywhere() -> None:
    """Every object of values.schema.json with fixed properties forbids others, and every
    value in values.yaml has a schema entry."""
    import json

    schema = json.loads((CHART / "values.schema.json").read_text())

    def walk(node: dict[str, Any], where: str) -> None:
        if "properties" in node:
            assert node.get("additionalProperties") is False, where
            for key, child in node["properties"].items():
                walk(child, f"{where}.{key}")

    walk(schema, "")
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def covered(value: Any, node: dict[str, Any], where: str) -> None:
        assert node, f"{where}: no schema"
        if isinstance(value, dict) and "properties" in node:
            assert set(value) == set(node["properties"]) - {"global"}, where
            for key, child in value.items():
                covered(child, node["properties"][key], f"{where}.{key}")

    covered(values, schema, "")

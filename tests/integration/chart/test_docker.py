"""The container images, checked without a Docker engine: the Dockerfiles parse, bases are pinned,
the final stages run as the non-root users the chart expects, the exposed ports and the
operator's entrypoint agree with the chart, the installed extras cover what the code imports,
and the build context holds the sources and none of the local clutter."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.chart import dockerfiles
from tests.integration.chart.conftest import CHART, REPO, Render, one

RAY = REPO / "docker" / "ray.Dockerfile"
OPERATOR = REPO / "docker" / "operator.Dockerfile"
LOCAL_PACKAGES = {"ai2text", "deployments", "training", "operators", "tests"}


def _variants(path: Path) -> list[dockerfiles.Dockerfile]:
    """The Dockerfile as built with each value of its VARIANT argument (if it has one)."""
    text = path.read_text()
    parsed = dockerfiles.parse(text)
    if "VARIANT" not in parsed.global_args:
        return [parsed]
    return [
        dockerfiles.parse(re.sub(r"^ARG VARIANT=\w+$", f"ARG VARIANT={v}", text, flags=re.M))
        for v in ("gpu", "cpu")
    ]


def test_the_parser_reads_instructions_and_rejects_nonsense() -> None:
    parsed = dockerfiles.parse(
        "# syntax=docker/dockerfile:1.7\nARG TAG=1.2\nFROM img:${TAG} AS one\n"
        "RUN --mount=type=cache,target=/c echo a \\\n  # comment\n  && echo b\n"
        'FROM one\nUSER 10:10\nEXPOSE 80 443/tcp\nENTRYPOINT ["a", "b"]\n'
    )
    assert [s.base for s in parsed.stages] == ["img:1.2", "one"]
    (run,) = parsed.stage("one").all("RUN")
    assert run.flags == {"mount": "type=cache,target=/c"} and run.args == "echo a && echo b"
    assert dockerfiles.exposed_ports(parsed.final) == {80, 443}
    assert parsed.final.all("ENTRYPOINT")[0].exec_form() == ["a", "b"]
    for bad in ("FROM a\nRUNN x\n", "RUN x\n", "ARG T\nFROM img:$T\n", "FROM a \\\n"):
        with pytest.raises(AssertionError):
            dockerfiles.parse(bad)


@pytest.mark.parametrize("path", [RAY, OPERATOR], ids=["ray", "operator"])
def test_bases_are_pinned_and_stage_references_exist(path: Path) -> None:
    for parsed in _variants(path):
        assert len(parsed.stages) >= 2, "multi-stage: a builder and the final stage"
        names: list[str] = []
        for stage in parsed.stages:
            if stage.base not in names:
                image, _, digest = stage.base.partition("@")
                repository, _, tag = image.rpartition(":")
                assert repository and "/" not in tag, f"{path.name}: {stage.base} has no tag"
                assert tag != "latest" and tag, f"{path.name}: {stage.base} is not pinned"
                assert not digest or digest.startswith("sha256:")
            for instruction in stage.instructions:
                source = instruction.flags.get("from")
                mount = dict(
                    part.split("=", 1)
                    for part in instruction.flags.get("mount", "").split(",")
                    if "=" in part
                )
                for ref in filter(None, (source, mount.get("from"))):
                    assert ref in names, f"{path.name}:{instruction.line}: no earlier stage {ref}"
            if stage.name:
                names.append(stage.name)


def _final_user(parsed: dockerfiles.Dockerfile) -> tuple[int, int]:
    users = parsed.final.all("USER")
    assert users, "the final stage sets its USER (a base image's default is not relied on)"
    user = users[-1].args
    assert re.fullmatch(r"\d+:\d+", user), f"numeric uid:gid, so runAsNonRoot can verify: {user}"
    uid, gid = (int(x) for x in user.split(":"))
    assert uid != 0 and gid != 0
    return uid, gid


def test_final_stages_run_as_the_charts_non_root_users(render: Render) -> None:
    objs = render()
    ray_pod = one(objs, "RayService")["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]
    operator_pod = one(objs, "Deployment")["spec"]["template"]
    for path, pod in ((RAY, ray_pod), (OPERATOR, operator_pod)):
        security = pod["spec"]["securityContext"]
        for parsed in _variants(path):
            uid, gid = _final_user(parsed)
            assert (security["runAsUser"], security["runAsGroup"]) == (uid, gid), path.name
            assert security["runAsNonRoot"] is True


def test_exposed_ports_are_the_charts_container_ports(render: Render) -> None:
    from tests.k8s_schemas import pod_templates

    objs = render()
    ray_ports = {
        port["containerPort"]
        for _, template in pod_templates(one(objs, "RayService"))
        for container in template["spec"]["containers"]
        for port in container.get("ports", [])
    }
    operator = one(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    for parsed in _variants(RAY):
        assert dockerfiles.exposed_ports(parsed.final) == ray_ports == {8000, 8265, 6379}
    assert (
        dockerfiles.exposed_ports(dockerfiles.load(OPERATOR).final)
        == {p["containerPort"] for p in operator["ports"]}
        == {8080}
    )


def test_operator_entrypoint_with_the_charts_args_is_the_operator_command(render: Render) -> None:
    from ai2text.cli.main import build_parser

    (entrypoint,) = dockerfiles.load(OPERATOR).final.all("ENTRYPOINT")
    command = entrypoint.exec_form()
    assert command == ["ai2text", "operator", "run"]
    container = one(render(), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert "command" not in container
    args = build_parser().parse_args([*command[1:], *container["args"]])
    assert (args.command, args.action) == ("operator", "run")
    # the console script exists under that name
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert command[0] in scripts


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return project


def test_ray_variants_versions_and_python_agree() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    gpu, cpu = _variants(RAY)
    ray_version = gpu.global_args["RAY_VERSION"]
    assert ray_version == values["rayVersion"]
    assert f"ray[serve]=={ray_version}" in _project()["optional-dependencies"]["serve"]
    assert gpu.stage("base-gpu").base.endswith(f"{ray_version}-py311-cu128")
    assert cpu.stage("base-cpu").base.endswith(f"{ray_version}-py311-cpu")
    assert gpu.stages[-1].base == "base-gpu" and cpu.stages[-1].base == "base-cpu"
    env = {s.name: " ".join(i.args for i in s.all("ENV")) for s in gpu.stages}
    assert "whl/cu128" in env["base-gpu"] and "whl/cpu" in env["base-cpu"]
    operator_base = dockerfiles.load(OPERATOR).stages[-1].base
    assert operator_base.startswith("python:3.11-")
    assert _project()["requires-python"] == ">=3.11"


def _install_runs(parsed: dockerfiles.Dockerfile) -> str:
    return " && ".join(i.args for i in parsed.final.all("RUN"))


def _extras(parsed: dockerfiles.Dockerfile) -> set[str]:
    found = re.findall(r"ai2text\[([a-z,]+)\]", _install_runs(parsed))
    assert len(found) == 1, found
    return set(found[0].split(","))


def test_torch_is_installed_first_from_the_pinned_version_under_constraints() -> None:
    constraints = (REPO / "constraints.txt").read_text()
    pin = re.search(r"^torch==(\S+)$", constraints, flags=re.M)
    assert pin
    for path in (RAY, OPERATOR):
        for parsed in _variants(path):
            runs = _install_runs(parsed)
            torch = runs.find(f"torch=={pin[1]}")
            project = runs.find("ai2text[")
            assert 0 <= torch < project, f"{path.name}: torch {pin[1]} before the project"
            install = runs[project - 200 : project]
            assert re.search(r"-c \S*constraints\.txt", install), f"{path.name}: constraints"


def _requirement_closure(extras: set[str]) -> set[str]:
    """Canonical names of every distribution `ai2text[extras]` installs: its requirements from
    pyproject.toml, theirs from the metadata of this environment (where all are installed)."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = _project()
    roots = list(project["dependencies"])
    for extra in extras:
        roots.extend(project["optional-dependencies"][extra])
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = {"ai2text"}
    stack = [(r.name, frozenset(r.extras)) for r in map(Requirement, roots)]
    while stack:
        name, wanted = stack.pop()
        key = (canonicalize_name(name), wanted)
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # not for this platform (markers) or optional
        names.add(canonicalize_name(name))
        for line in dist.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in wanted | {""}):
                stack.append((requirement.name, frozenset(requirement.extras)))
    return names


class _Imports(ast.NodeVisitor):
    """Absolute imports a module executes: at import time only (module_level) or anywhere;
    `if TYPE_CHECKING:` blocks and `try: ... except ImportError:` fallbacks are not needs."""

    def __init__(self, module_level: bool) -> None:
        self.module_level = module_level
        self.found: list[str] = []

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        handled = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
        if handled & {"ImportError", "ModuleNotFoundError"}:
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if not self.module_level:
            self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        if not self.module_level:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.extend(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.found.append(node.module)
            self.found.extend(f"{node.module}.{alias.name}" for alias in node.names)


def _module_file(module: str) -> Path | None:
    base = REPO.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _third_party_imports(entries: list[Path]) -> dict[str, str]:
    """Top-level third-party module -> a local file importing it: every import of the entry
    files, and the import-time imports of the local modules they reach (transitively)."""
    found: dict[str, str] = {}
    queue: list[tuple[Path, bool]] = [(path, False) for path in entries]
    done: set[tuple[Path, bool]] = set()
    while queue:
        path, module_level = queue.pop()
        if (path, module_level) in done:
            continue
        done.add((path, module_level))
        visitor = _Imports(module_level)
        visitor.visit(ast.parse(path.read_text()))
        for module in visitor.found:
            top = module.split(".")[0]
            if top in LOCAL_PACKAGES:
                parts = module.split(".")
                for n in range(1, len(parts) + 1):  # parents' __init__ run first
                    file = _module_file(".".join(parts[:n]))
                    if file is not None:
                        queue.append((file, True))
            elif top not in sys.stdlib_module_names and top != "__future__":
                found.setdefault(top, str(path.relative_to(REPO)))
    return found


@pytest.mark.parametrize(
    ("path", "needed", "entries"),
    [
        (RAY, {"asr", "train", "serve"}, ["deployments", "training"]),
        (OPERATOR, {"asr", "operator"}, ["operators", "ai2text/cli/operator_cmd.py"]),
    ],
    ids=["ray", "operator"],
)
def test_installed_extras_cover_what_the_code_imports(
    path: Path, needed: set[str], entries: list[str]
) -> None:
    from importlib.metadata import packages_distributions

    from packaging.utils import canonicalize_name

    for parsed in _variants(path):
        extras = _extras(parsed)
        assert needed <= extras, f"{path.name}: installs ai2text[{','.join(sorted(extras))}]"
        closure = _requirement_closure(extras)
        files = [
            file
            for entry in entries
            for file in (
                (REPO / entry).rglob("*.py") if (REPO / entry).is_dir() else [REPO / entry]
            )
        ]
        imports = _third_party_imports(files)
        assert {"ray", "fastapi"} <= set(imports) if path == RAY else {"kopf"} <= set(imports)
        providers = packages_distributions()
        missing = {
            module: where
            for module, where in imports.items()
            if not {canonicalize_name(d) for d in providers.get(module, [])} & closure
        }
        assert missing == {}, f"{path.name}: imported but not installed by its extras"


def test_the_extras_check_notices_a_missing_extra() -> None:
    closure = _requirement_closure({"asr", "operator"})
    assert "kopf" in closure and "nemo-toolkit" in closure
    assert "fastapi" not in closure and "ray" not in closure


def test_build_context_has_the_sources_and_none_of_the_clutter() -> None:
    patterns = dockerfiles.ignore_patterns((REPO / ".dockerignore").read_text())
    ignored = [
        ".venv/bin/python",
        ".git/HEAD",
        "ai2text/__pycache__/config.cpython-311.pyc",
        ".pytest_cache/v/cache/nodeids",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/0.1/x",
        "ai2text.egg-info/PKG-INFO",
        "tests/conftest.py",
        "charts/ai2text/values.yaml",
        "deployments/__pycache__/app.cpython-311.pyc",
    ]
    kept = [
        "pyproject.toml",
        "constraints.txt",
        "README.md",
        "ai2text/config.py",
        "ai2text/store/migrations",
        "deployments/app.py",
        "deployments/serve_config.yaml",
        "training/train.py",
        "operators/__init__.py",
    ]
    assert [p for p in ignored if not dockerfiles.is_ignored(patterns, p)] == []
    assert [p for p in kept if dockerfiles.is_ignored(patterns, p)] == []
    # every COPY source from the context exists and is in the context
    for path in (RAY, OPERATOR):
        for stage in dockerfiles.load(path).stages:
            for copy in stage.all("COPY"):
                if "from" in copy.flags:
                    continue
                *sources, _ = copy.args.split()
                for source in sources:
                    assert (REPO / source).exists(), f"{path.name}:{copy.line}: {source}"
                    assert not dockerfiles.is_ignored(patterns, source), f"{source} is ignored"
    # setuptools finds every package and its data (pyproject's find and package-data)
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    for include in packages["packages"]["find"]["include"]:
        folder = include.rstrip("*")
        assert not dockerfiles.is_ignored(patterns, f"{folder}/__init__.py"), folder

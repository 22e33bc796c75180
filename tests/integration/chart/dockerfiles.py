"""A small reader of Dockerfiles and .dockerignore, enough to check the images without Docker:
instructions (FROM, ARG, ENV, RUN, COPY, USER, EXPOSE, ENTRYPOINT, ...), line continuations,
comments, flags, JSON (exec) forms, multi-stage names and global ARG substitution in FROM."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

KNOWN = {
    "FROM",
    "ARG",
    "ENV",
    "RUN",
    "COPY",
    "ADD",
    "USER",
    "WORKDIR",
    "EXPOSE",
    "ENTRYPOINT",
    "CMD",
    "LABEL",
    "HEALTHCHECK",
    "SHELL",
    "STOPSIGNAL",
    "VOLUME",
    "ONBUILD",
}
_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


@dataclass
class Instruction:
    keyword: str
    args: str
    flags: dict[str, str]
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form ENTRYPOINT/CMD/RUN, or None for the shell form."""
        if self.args.startswith("["):
            value = json.loads(self.args)
            assert isinstance(value, list) and all(isinstance(v, str) for v in value)
            return value
        return None


@dataclass
class Stage:
    index: int
    base: str  # the FROM image with global ARGs substituted (or an earlier stage's name)
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    global_args: dict[str, str | None]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def names(self) -> list[str]:
        return [s.name for s in self.stages if s.name]


def substitute(text: str, variables: dict[str, str | None]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        value = variables.get(name)
        assert value is not None, f"${name} has no default value"
        return value

    return _VAR.sub(replace, text)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Instructions with continuations joined and comment lines dropped (as BuildKit does)."""
    result: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if not buffer:
            start = number
        if raw.rstrip().endswith("\\"):
            buffer.append(raw.rstrip()[:-1].strip())
            continue
        buffer.append(stripped)
        result.append((start, " ".join(part for part in buffer if part)))
        buffer = []
    assert not buffer, "the Dockerfile ends inside a line continuation"
    return result


def parse(text: str) -> Dockerfile:
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    for line, content in _logical_lines(text):
        keyword, _, rest = content.partition(" ")
        keyword = keyword.upper()
        assert keyword in KNOWN, f"line {line}: unknown instruction {keyword}"
        rest = rest.strip()
        flags: dict[str, str] = {}
        while keyword in {"FROM", "RUN", "COPY", "ADD"} and rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            name, _, value = flag[2:].partition("=")
            flags[name] = value
            rest = rest.strip()
        instruction = Instruction(keyword, rest, flags, line)
        if keyword == "FROM":
            words = rest.split()
            assert len(words) in (1, 3), f"line {line}: FROM image [AS name]"
            stage_name: str | None = None
            if len(words) == 3:
                assert words[1].upper() == "AS", f"line {line}: FROM image AS name"
                stage_name = words[2].lower()
            stages.append(Stage(len(stages), substitute(words[0], global_args), stage_name, line))
        elif not stages:
            assert keyword == "ARG", f"line {line}: only ARG may come before the first FROM"
            arg, _, default = rest.partition("=")
            global_args[arg] = default if default else None
        else:
            stages[-1].instructions.append(instruction)
    assert stages, "no FROM"
    return Dockerfile(global_args, stages)


def load(path: Path) -> Dockerfile:
    return parse(path.read_text())


def exposed_ports(stage: Stage) -> set[int]:
    ports: set[int] = set()
    for instruction in stage.all("EXPOSE"):
        for word in instruction.args.split():
            ports.add(int(word.split("/")[0]))
    return ports


def ignore_patterns(text: str) -> list[tuple[bool, str]]:
    """(exclude?, pattern) of each line of a .dockerignore, in order."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:].strip() if negated else line
        patterns.append((not negated, pattern.strip("/")))
    return patterns


def _matches(pattern: str, path: str) -> bool:
    """Docker's rule: the pattern matches the path or one of its parent folders; `**` spans
    any number of folders, `*` stays within one."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        else:
            chunk = pattern[i]
            regex += "[^/]*" if chunk == "*" else "[^/]" if chunk == "?" else re.escape(chunk)
            i += 1
    parts = path.split("/")
    return any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1))


def is_ignored(patterns: list[tuple[bool, str]], path: str) -> bool:
    """Whether a file (path relative to the context) stays out of the build context."""
    ignored = False
    for exclude, pattern in patterns:
        if _matches(pattern, path):
            ignored = exclude
    return ignored

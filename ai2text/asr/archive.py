"""Safe inspection and extraction of ``.nemo`` archives (tar, optionally gzip-compressed).

A checkpoint from a user is untrusted. Before anything is written, every member is checked:
regular files and folders only (no symlinks, hard links, devices or FIFOs), relative names with no
``..`` part, and bounded member count and total size. Extraction then writes only those members,
with tarfile's ``data`` filter as a second guard.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ai2text.errors import ModelLoadError

MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 8 * 1024**3


@dataclass(frozen=True)
class ArchiveListing:
    names: tuple[str, ...]
    total_bytes: int

    def find(self, suffix: str) -> list[str]:
        return [n for n in self.names if n.endswith(suffix)]


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise ModelLoadError(f"{path.name} is not a .nemo (tar) archive: {exc}") from exc


def inspect_archive(path: Path) -> ArchiveListing:
    """List the archive's members, refusing it whole if any member is unsafe."""
    names: list[str] = []
    total = 0
    with _open(path) as archive:
        try:
            members = archive.getmembers()
        except (tarfile.TarError, EOFError) as exc:
            raise ModelLoadError(f"{path.name} is damaged: {exc}") from exc
        if len(members) > MAX_MEMBERS:
            raise ModelLoadError(f"{path.name} has {len(members)} members, over {MAX_MEMBERS}")
        for member in members:
            name = member.name
            pure = PurePosixPath(name)
            if not pure.parts and member.isdir():
                continue  # the archive's own root, "." (NeMo writes one)
            if (
                not pure.parts
                or name.startswith(("/", "\\"))
                or pure.is_absolute()
                or ":" in pure.parts[0]
            ):
                raise ModelLoadError(f"{path.name} holds an absolute path ({name}); refused")
            if ".." in pure.parts or "\\" in name:
                raise ModelLoadError(
                    f"{path.name} holds a path leaving the archive ({name}); refused"
                )
            if member.issym() or member.islnk():
                raise ModelLoadError(f"{path.name} holds a link ({name}); refused")
            if not (member.isfile() or member.isdir()):
                raise ModelLoadError(
                    f"{path.name} holds a device or special file ({name}); refused"
                )
            total += max(0, member.size)
            if total > MAX_TOTAL_BYTES:
                raise ModelLoadError(f"{path.name} unpacks to more than {MAX_TOTAL_BYTES} bytes")
            if member.isfile():
                names.append(str(pure))
    return ArchiveListing(tuple(names), total)


def extract_archive(path: Path, destination: Path) -> ArchiveListing:
    """Check, then extract the regular files and folders into ``destination``."""
    listing = inspect_archive(path)
    destination.mkdir(parents=True, exist_ok=True)
    with _open(path) as archive:
        try:
            archive.extractall(destination, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise ModelLoadError(f"cannot extract {path.name}: {exc}") from exc
    return listing

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from ai2text.asr.archive import extract_archive, inspect_archive
from ai2text.errors import ModelLoadError


def build(path: Path, members: list[tarfile.TarInfo], gz: bool = False) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w") as archive:
        for member in members:
            data = b"x" * member.size if member.isfile() else None
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    return path


def regular(name: str, size: int = 4) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    return info


def special(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_a_clean_archive_extracts(tmp_path: Path) -> None:
    path = build(
        tmp_path / "ok.nemo",
        [regular("./model_config.yaml"), regular("model_weights.ckpt", 10)],
        gz=True,
    )
    listing = extract_archive(path, tmp_path / "out")
    assert listing.find(".yaml") == ["model_config.yaml"]
    assert (tmp_path / "out" / "model_weights.ckpt").read_bytes() == b"x" * 10


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (regular("../evil.py"), "leaving the archive"),
        (regular("a/../../evil.py"), "leaving the archive"),
        (regular("/etc/cron.d/evil"), "absolute"),
        (special("link", tarfile.SYMTYPE, "/etc/passwd"), "link"),
        (special("hard", tarfile.LNKTYPE, "model_config.yaml"), "link"),
        (special("dev", tarfile.CHRTYPE), "device"),
        (special("fifo", tarfile.FIFOTYPE), "device"),
    ],
)
def test_unsafe_members_refuse_the_whole_archive(
    tmp_path: Path, member: tarfile.TarInfo, reason: str
) -> None:
    path = build(tmp_path / "bad.nemo", [regular("model_config.yaml"), member])
    with pytest.raises(ModelLoadError, match=reason):
        extract_archive(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_not_an_archive(tmp_path: Path) -> None:
    (tmp_path / "x.nemo").write_bytes(b"PK\x03\x04 a zip, not a tar")
    with pytest.raises(ModelLoadError, match=r"not a \.nemo"):
        inspect_archive(tmp_path / "x.nemo")

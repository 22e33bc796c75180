"""The same contract for both blob backends; S3 runs against moto's real HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ai2text.config import S3Settings, Settings
from ai2text.errors import InputError, NotFoundError
from ai2text.store.blobs import BlobStore, LocalBlobStore, S3BlobStore, open_blob_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    settings = Settings(
        home=tmp_path,
        blob_backend="s3",
        s3=S3Settings(
            bucket=f"b-{tmp_path.name.lower().replace('_', '-')}"[:60],
            endpoint_url=endpoint,
            access_key_id="testing",  # type: ignore[arg-type]
            secret_access_key="testing",  # type: ignore[arg-type]
            prefix="ai2text",
        ),
    )
    s3 = open_blob_store(settings)
    assert isinstance(s3, S3BlobStore)
    s3.ensure_bucket()
    yield s3


def test_round_trip_and_listing(store: BlobStore, tmp_path: Path) -> None:
    store.put_bytes("transcripts/a.json", b'{"text": "xin ch\xc3\xa0o"}')
    source = tmp_path / "in.wav"
    source.write_bytes(b"RIFF" + bytes(1000))
    uri = store.put_file("audio/raw/a.wav", source)
    assert uri.endswith("audio/raw/a.wav")
    assert store.get_bytes("transcripts/a.json") == b'{"text": "xin ch\xc3\xa0o"}'
    target = tmp_path / "out" / "a.wav"
    store.download("audio/raw/a.wav", target)
    assert target.read_bytes() == source.read_bytes()
    assert list(store.list("audio/")) == ["audio/raw/a.wav"]
    assert list(store.list()) == ["audio/raw/a.wav", "transcripts/a.json"]


def test_overwrite_replaces_whole(store: BlobStore) -> None:
    store.put_bytes("models/v1/model.nemo", b"old" * 1000)
    store.put_bytes("models/v1/model.nemo", b"new")
    assert store.get_bytes("models/v1/model.nemo") == b"new"


def test_missing_and_delete(store: BlobStore, tmp_path: Path) -> None:
    assert not store.exists("audio/raw/none.wav")
    with pytest.raises(NotFoundError):
        store.get_bytes("audio/raw/none.wav")
    with pytest.raises(NotFoundError):
        store.download("audio/raw/none.wav", tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()
    store.put_bytes("audio/raw/b.wav", b"x")
    assert store.exists("audio/raw/b.wav")
    store.delete("audio/raw/b.wav")
    store.delete("audio/raw/b.wav")
    assert not store.exists("audio/raw/b.wav")


def test_unsafe_keys_never_touch_storage(store: BlobStore) -> None:
    with pytest.raises(InputError):
        store.put_bytes("../escape", b"x")
    assert list(store.list()) == []


@pytest.mark.parametrize("prefix", ["../", "../../etc/", "a/../../", "/etc/"])
def test_listing_cannot_leave_the_store(store: BlobStore, prefix: str) -> None:
    with pytest.raises(InputError):
        list(store.list(prefix))


def test_health_check_leaves_nothing(store: BlobStore) -> None:
    assert "ok" in store.check()
    assert list(store.list()) == []


def test_local_writes_leave_no_temp_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    for i in range(5):
        store.put_bytes("datasets/h/manifest.jsonl", str(i).encode())
    assert sorted(p.name for p in (tmp_path / "blobs" / "datasets" / "h").iterdir()) == [
        "manifest.jsonl"
    ]

"""Blob storage: one interface over a local folder and S3 (or MinIO).

Keys are relative, slash-separated paths in the seed's layout (``audio/raw/{id}.wav``,
``transcripts/{id}.json``, ``datasets/...``, ``models/...``); :func:`audio_raw_key` and friends
build them. Writes are atomic on both backends: a reader sees the old object or the new one, never
a part. Deleting a missing key is not an error, so cleanups can be retried.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ai2text.config import Settings
from ai2text.errors import InputError, NotFoundError, StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]*(/[A-Za-z0-9][A-Za-z0-9._=-]*)*$")


def validate_key(key: str) -> str:
    """Refuse keys that could escape the store or that S3 and a file system treat differently."""
    if len(key) > 512 or not _KEY.match(key) or any(p in {".", ".."} for p in key.split("/")):
        raise InputError(
            f"invalid blob key {key!r}: use relative slash-separated names of letters, digits, "
            "'.', '_', '=', '-', with no '..' parts"
        )
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key (or the start of one) with an optional trailing slash."""
    if prefix:
        validate_key(prefix.removesuffix("/"))
    return prefix


def audio_raw_key(audio_id: uuid.UUID | str) -> str:
    return f"audio/raw/{audio_id}.wav"


def transcript_key(audio_id: uuid.UUID | str) -> str:
    return f"transcripts/{audio_id}.json"


def dataset_key(dataset_hash: str, name: str) -> str:
    return validate_key(f"datasets/{dataset_hash}/{name}")


def model_key(version: str, name: str) -> str:
    return validate_key(f"models/{version}/{name}")


def run_key(run: str, name: str) -> str:
    """A file of a training run (its checkpoints go to ``runs/<run>/`` through Ray Train)."""
    return validate_key(f"runs/{run}/{name}")


class BlobStore(Protocol):
    """What every backend offers."""

    def put_bytes(self, key: str, data: bytes) -> str:
        """Store ``data`` atomically under ``key``; return the blob's URI."""
        ...

    def put_file(self, key: str, path: Path) -> str:
        """Store a local file atomically under ``key``; return the blob's URI."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """The whole blob; NotFoundError when absent."""
        ...

    def download(self, key: str, path: Path) -> None:
        """Copy the blob to a local file (atomically); NotFoundError when absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the blob; a missing key is fine."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix``, in lexicographic order."""
        ...

    def uri(self, key: str) -> str: ...

    def check(self) -> str:
        """Write, read and delete a probe blob; return a description or raise StorageError."""
        ...


class LocalBlobStore:
    """Blobs as files under a root folder; temp file + fsync + rename for atomic writes."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    @contextlib.contextmanager
    def _atomic_target(self, key: str) -> Iterator[Path]:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-", suffix=".part")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes) -> str:
        with self._atomic_target(key) as tmp:
            tmp.write_bytes(data)
        return self.uri(key)

    def put_file(self, key: str, path: Path) -> str:
        with self._atomic_target(key) as tmp, open(path, "rb") as src, open(tmp, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {key} does not exist") from exc

    def download(self, key: str, path: Path) -> None:
        data = self.get_bytes(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[str]:
        # walk only the deepest folder the prefix names, not the whole store
        folder = self.root.joinpath(*validate_prefix(prefix).split("/")[:-1])
        if not folder.is_dir():
            return
        keys = (
            p.relative_to(self.root).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
        yield from sorted(k for k in keys if k.startswith(prefix))

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def local_path(self, key: str) -> Path:
        """Where a blob lies on this machine (no copy needed)."""
        return self._path(key)

    def check(self) -> str:
        return _round_trip(self, f"local folder {self.root}")


def s3_client(settings: Settings) -> S3Client:
    """A boto3 S3 client for the configured endpoint and credentials (blobs, the S3 inbox)."""
    import boto3

    s3 = settings.s3
    return boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        region_name=s3.region,
        aws_access_key_id=s3.access_key_id.get_secret_value() if s3.access_key_id else None,
        aws_secret_access_key=(
            s3.secret_access_key.get_secret_value() if s3.secret_access_key else None
        ),
    )


class S3BlobStore:
    """Blobs in an S3 bucket (AWS, MinIO, any S3 API) through boto3; PUT is atomic in S3."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        return cls(s3_client(settings), settings.s3.bucket, settings.s3.prefix)

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _fail(self, action: str, key: str, exc: Exception) -> StorageError | NotFoundError:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in {
            "404",
            "NoSuchKey",
            "NotFound",
        }:
            return NotFoundError(f"blob {key} does not exist in s3://{self.bucket}")
        return StorageError(f"S3 {action} of {key} in bucket {self.bucket} failed: {exc}")

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except ClientError as exc:
                raise StorageError(f"cannot create S3 bucket {self.bucket}: {exc}") from exc

    def put_bytes(self, key: str, data: bytes) -> str:
        full = self._key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=full, Body=data)
        except Exception as exc:
            raise self._fail("put", key, exc) from exc
        return self.uri(key)

    def put_file(self, key: str, path: Path) -> str:
        full = self._key(key)
        try:
            self.client.upload_file(str(path), self.bucket, full)
        except Exception as exc:
            raise self._fail("upload", key, exc) from exc
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        full = self._key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=full)["Body"].read()
        except Exception as exc:
            raise self._fail("get", key, exc) from exc

    def download(self, key: str, path: Path) -> None:
        full = self._key(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        try:
            self.client.download_file(self.bucket, full, str(tmp))
            os.replace(tmp, path)
        except Exception as exc:
            raise self._fail("download", key, exc) from exc
        finally:
            tmp.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        full = self._key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=full)
        except Exception as exc:
            error = self._fail("head", key, exc)
            if isinstance(error, NotFoundError):
                return False
            raise error from exc
        return True

    def delete(self, key: str) -> None:
        full = self._key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=full)
        except Exception as exc:
            raise self._fail("delete", key, exc) from exc

    def list(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        full = self.prefix + validate_prefix(prefix)
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]
        except Exception as exc:
            raise self._fail("list", prefix or "/", exc) from exc

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def check(self) -> str:
        return _round_trip(self, f"s3://{self.bucket}/{self.prefix}")


def _round_trip(store: BlobStore, where: str) -> str:
    key = f"health/probe-{uuid.uuid4().hex}"
    payload = os.urandom(32)
    try:
        store.put_bytes(key, payload)
        if store.get_bytes(key) != payload:
            raise StorageError(f"{where}: a blob read back differs from what was written")
    finally:
        store.delete(key)
    return f"{where} (write, read and delete ok)"


def arrow_locations(settings: Settings, keys: Sequence[str]) -> tuple[list[str], Any]:
    """Blob keys (or key prefixes) as paths and, for S3, one pyarrow filesystem to use them with:
    what Ray Train's ``RunConfig(storage_path=..., storage_filesystem=...)`` and Ray Data's
    readers take."""
    for key in keys:
        validate_prefix(key)
    if settings.blob_backend == "local":
        return [str(settings.blob_dir / key) for key in keys], None
    import pyarrow.fs

    s3 = settings.s3
    filesystem = pyarrow.fs.S3FileSystem(
        access_key=s3.access_key_id.get_secret_value() if s3.access_key_id else None,
        secret_key=s3.secret_access_key.get_secret_value() if s3.secret_access_key else None,
        region=s3.region,
        endpoint_override=s3.endpoint_url,
    )
    prefix = s3.prefix.strip("/")
    root = f"{s3.bucket}/{prefix + '/' if prefix else ''}"
    return [root + key for key in keys], filesystem


def run_storage(settings: Settings) -> tuple[str, Any]:
    """Where training runs keep their checkpoints (``runs/`` in the blob store)."""
    (path,), filesystem = arrow_locations(settings, ["runs"])
    return path, filesystem


def open_blob_store(settings: Settings) -> BlobStore:
    """The configured backend."""
    if settings.blob_backend == "s3":
        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.blob_dir)

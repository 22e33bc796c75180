"""The S3 inbox: objects put under a bucket prefix are ingested, then moved aside, like the hot
folder, by any number of pollers at once.

An object is taken once its size and ETag have not changed for ``stable_s``. A poller wins an
object by claiming its key in PostgreSQL (an insert that only one poller can make, or the takeover
of a claim whose lease ran out, so a poller that died frees its objects); the loser skips it. The
winner downloads it (never more than the size limit), ingests it through the same path as an
upload, copies it to ``processed/`` (or ``failed/`` with a ``.reason`` object), deletes the
original and settles the claim. Every step can be repeated after a crash: ingestion dedupes by
SHA-256, copies overwrite, and a settled key is only taken again when new content (another ETag)
arrives under it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ai2text.errors import Ai2TextError, is_client_error
from ai2text.pipeline.intake import (
    DEFAULT_GLOBS,
    FAILED,
    PROCESSED,
    Ingest,
    Outcome,
    Stability,
    matches,
    size_refusal,
)
from ai2text.store.database import Database

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_CLAIM = """
INSERT INTO inbox_claims (object_key, etag, owner, claimed_until)
VALUES (%(key)s, %(etag)s, %(owner)s, now() + make_interval(secs => %(lease)s))
ON CONFLICT (object_key) DO UPDATE
SET etag = EXCLUDED.etag, owner = EXCLUDED.owner, claimed_until = EXCLUDED.claimed_until,
    settled = NULL, audio_id = NULL, reason = NULL, updated_at = now()
WHERE (inbox_claims.settled IS NULL AND inbox_claims.claimed_until < now())
   OR (inbox_claims.settled IS NOT NULL AND inbox_claims.etag <> EXCLUDED.etag)
RETURNING owner
"""
_SETTLE = """
UPDATE inbox_claims SET settled = %(settled)s, audio_id = %(audio_id)s, reason = %(reason)s,
       updated_at = now()
WHERE object_key = %(key)s AND owner = %(owner)s
"""


@dataclass
class S3Inbox:
    client: S3Client
    bucket: str
    db: Database
    ingest: Ingest
    owner: str  # this poller's name in the claims
    prefix: str = "inbox/"
    globs: tuple[str, ...] = DEFAULT_GLOBS
    stable_s: float = 2.0
    max_bytes: int = 200 * 1024 * 1024
    lease_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _stability: Stability = field(init=False)

    def __post_init__(self) -> None:
        self.prefix = self.prefix.strip("/") + "/"
        self._stability = Stability(self.stable_s)

    def _objects(self) -> list[dict[str, Any]]:
        """Inbox objects matching the globs, outside processed/ and failed/."""
        found = []
        skip = (f"{self.prefix}{PROCESSED}/", f"{self.prefix}{FAILED}/")
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                name = key.rsplit("/", 1)[-1]
                if not key.startswith(skip) and matches(name, self.globs):
                    found.append(dict(item))
        return found

    def poll(self) -> list[Outcome]:
        """One pass: claim and take every stable object; what happened to each taken one."""
        outcomes = []
        now = self.clock()
        present = set()
        for item in self._objects():
            key, size, etag = item["Key"], int(item["Size"]), str(item["ETag"])
            present.add(key)
            if self._stability.ready(key, (size, etag), now) and self._claim(key, etag):
                outcomes.append(self._take(key, size))
        self._stability.keep_only(present)
        return outcomes

    def _claim(self, key: str, etag: str) -> bool:
        with self.db.connection() as conn:
            won = conn.execute(
                _CLAIM, {"key": key, "etag": etag, "owner": self.owner, "lease": self.lease_s}
            ).fetchone()
        return won is not None

    def _refusal(self, relative: str, size: int) -> str | None:
        if relative.startswith("/") or ".." in relative.split("/"):
            return "the key leaves the inbox (absolute or with '..')"
        return size_refusal("object", size, self.max_bytes)

    def _take(self, key: str, size: int) -> Outcome:
        relative = key[len(self.prefix) :]
        refusal = self._refusal(relative, size)
        if refusal is not None:
            return self._fail(key, relative, refusal)
        body = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{size - 1}")
        data = body["Body"].read(self.max_bytes + 1)
        try:
            result = self.ingest(data, relative)
        except Ai2TextError as exc:
            if not is_client_error(exc):
                raise  # the platform's fault: the claim's lease runs out and the object is retried
            return self._fail(key, relative, exc.message)
        self._move(key, f"{self.prefix}{PROCESSED}/{relative}")
        self._settle(key, PROCESSED, str(result.audio_id), None)
        status = "duplicate" if result.duplicate else "ingested"
        return Outcome(relative, status, audio_id=str(result.audio_id))

    def _fail(self, key: str, relative: str, reason: str) -> Outcome:
        target = f"{self.prefix}{FAILED}/{relative}"
        self.client.put_object(
            Bucket=self.bucket, Key=f"{target}.reason", Body=(reason + "\n").encode()
        )
        self._move(key, target)
        self._settle(key, FAILED, None, reason)
        return Outcome(relative, "failed", reason=reason)

    def _move(self, key: str, target: str) -> None:
        self.client.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key}
        )
        self.client.delete_object(Bucket=self.bucket, Key=key)
        self._stability.forget(key)

    def _settle(self, key: str, settled: str, audio_id: str | None, reason: str | None) -> None:
        with self.db.connection() as conn:
            conn.execute(
                _SETTLE,
                {"key": key, "owner": self.owner, "settled": settled, "audio_id": audio_id,
                 "reason": reason},
            )  # fmt: skip

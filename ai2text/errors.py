"""The one exception hierarchy of ai2text.

Every error we raise on purpose derives from :class:`Ai2TextError`, so a boundary (the CLI, the HTTP
ingress, the operator) maps them in one place:

    Ai2TextError
    ├── ConfigError            settings that contradict each other or are unsafe for the environment
    ├── InputError             bad input from outside (a user, a file, a request)
    │   ├── AudioDecodeError   audio that cannot be decoded within the limits
    │   ├── TooLargeError      a body, file or frame over its size limit
    │   ├── RangeError         an HTTP byte range outside the resource
    │   └── ModelLoadError     a model checkpoint that cannot be loaded safely
    ├── AuthError              a bearer token that is missing, malformed, expired or not ours
    ├── ForbiddenError         a valid token without the scope the call needs
    ├── RateLimitError         a principal or address over its request rate
    ├── NotFoundError          an audio, transcript, blob or model version that does not exist
    ├── ConflictError          a write that contradicts stored state (a speaker in two splits)
    ├── StorageError           the database, blob store or vector store failed or is unreachable
    │   └── MigrationError     the schema cannot be brought to the expected version
    └── BusError               the event bus cannot publish, claim or acknowledge

Callers at a boundary catch ``Ai2TextError``. ``InputError``, ``NotFoundError``,
``ConflictError``, ``AuthError``, ``ForbiddenError`` and ``RateLimitError`` are the caller's
fault (HTTP 4xx, CLI exit 2); the rest are ours or the environment's (exit 1).
Each error carries a ``code`` for machine-readable responses.
"""

from __future__ import annotations


class Ai2TextError(Exception):
    """Base of every error ai2text raises on purpose."""

    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(Ai2TextError):
    """Settings are missing, contradictory or unsafe outside dev."""

    code = "config"


class InputError(Ai2TextError):
    """Input from outside is malformed or over a limit."""

    code = "invalid_input"


class AudioDecodeError(InputError):
    """Audio cannot be decoded within the configured limits."""

    code = "audio_decode"


class NotFoundError(Ai2TextError):
    """The named entity does not exist."""

    code = "not_found"


class ConflictError(Ai2TextError):
    """The write contradicts stored state."""

    code = "conflict"


class StorageError(Ai2TextError):
    """A storage backend failed or is unreachable."""

    code = "storage"


class MigrationError(StorageError):
    """The database schema cannot be brought to the expected version."""

    code = "migration"


class BusError(Ai2TextError):
    """The event bus cannot publish, claim or acknowledge."""

    code = "bus"


class TooLargeError(InputError):
    """A body, file or frame is over its size limit."""

    code = "too_large"


class RangeError(InputError):
    """A requested byte range lies outside the resource."""

    code = "range_not_satisfiable"


class AuthError(Ai2TextError):
    """The caller did not prove who it is."""

    code = "unauthorized"


class ForbiddenError(Ai2TextError):
    """The caller is known but lacks the scope the call needs."""

    code = "forbidden"


class RateLimitError(Ai2TextError):
    """The caller is over its request rate; ``retry_after_s`` says when to come back."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ModelLoadError(InputError):
    """A model checkpoint is unsafe or cannot be loaded."""

    code = "model_load"


def is_client_error(error: Ai2TextError) -> bool:
    """True when the error is the caller's fault (HTTP 4xx, CLI exit 2)."""
    return isinstance(
        error,
        InputError | NotFoundError | ConflictError | AuthError | ForbiddenError | RateLimitError,
    )

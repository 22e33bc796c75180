from __future__ import annotations

import pytest

from ai2text.errors import (
    Ai2TextError,
    AudioDecodeError,
    ConflictError,
    MigrationError,
    NotFoundError,
    StorageError,
    is_client_error,
)


@pytest.mark.parametrize(
    ("error", "client"),
    [
        (AudioDecodeError("truncated"), True),
        (NotFoundError("no such audio"), True),
        (ConflictError("speaker in two splits"), True),
        (StorageError("database down"), False),
        (MigrationError("checksum"), False),
    ],
)
def test_client_errors_are_told_apart(error: Ai2TextError, client: bool) -> None:
    assert is_client_error(error) is client
    assert error.message in str(error)
    assert error.code

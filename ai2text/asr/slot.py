"""A swappable model: requests hold the one they started with; the old one closes after them.

A serving replica puts a new model in while requests are in flight. Each request takes a lease on
the current entry; a swap makes the new entry current at once, and the old entry is closed when
its last lease ends, never under a running request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from ai2text.errors import NotFoundError

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    value: T
    label: str
    leases: int = 0
    retired: bool = False


class ModelSlot(Generic[T]):
    def __init__(self, close: Callable[[T], None]) -> None:
        self._close = close
        self._current: _Entry[T] | None = None
        self._lock = threading.Lock()

    @property
    def label(self) -> str | None:
        with self._lock:
            return self._current.label if self._current else None

    def put(self, value: T, label: str) -> None:
        """Make ``value`` current; the previous value closes once no request holds it."""
        self._swap(_Entry(value, label))

    def clear(self) -> None:
        self._swap(None)

    def _swap(self, entry: _Entry[T] | None) -> None:
        with self._lock:
            old, self._current = self._current, entry
            if old is not None:
                old.retired = True
            close_now = old is not None and old.leases == 0
        if close_now:
            assert old is not None
            self._close(old.value)

    @contextmanager
    def use(self) -> Iterator[tuple[T, str]]:
        with self._lock:
            entry = self._current
            if entry is None:
                raise NotFoundError("no model is loaded yet")
            entry.leases += 1
        try:
            yield entry.value, entry.label
        finally:
            with self._lock:
                entry.leases -= 1
                done = entry.retired and entry.leases == 0
            if done:
                self._close(entry.value)

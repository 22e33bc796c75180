"""Request rates per principal and per client address (token buckets, in one process).

The client address is the TCP peer unless that peer is a configured trusted proxy; only then is
``X-Forwarded-For`` read, right to left, skipping trusted proxies, so a client cannot name itself
someone else by sending the header. Each ingress replica keeps its own buckets: with N replicas a
client gets up to N times the rate (documented; a shared store would be the next step).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ai2text.errors import ConfigError, RateLimitError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(cidrs: Sequence[str]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)
    except ValueError as exc:
        raise ConfigError(f"serve.trusted_proxies: {exc}") from exc


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The address a request comes from, believing X-Forwarded-For only from trusted proxies."""
    if not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop: fall back to what we can see
    return hops[0] if hops else peer


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate_per_minute`` requests per key with bursts up to the same number."""

    def __init__(
        self,
        rate_per_minute: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(rate_per_minute)
        self.refill_per_s = rate_per_minute / 60.0
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one request for ``key`` or raise RateLimitError with the wait."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(self.capacity, now)
            bucket.tokens = min(
                self.capacity, bucket.tokens + (now - bucket.updated) * self.refill_per_s
            )
            bucket.updated = now
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            if bucket.tokens < 1.0:
                wait = (1.0 - bucket.tokens) / self.refill_per_s
                raise RateLimitError(f"rate limit reached for {key}; retry in {wait:.1f} s", wait)
            bucket.tokens -= 1.0

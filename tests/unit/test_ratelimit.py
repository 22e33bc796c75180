"""Token buckets and the client address behind proxies."""

from __future__ import annotations

import pytest

from ai2text.errors import ConfigError, RateLimitError
from ai2text.ratelimit import RateLimiter, client_address, parse_networks


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_rate_then_refuses_then_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    for _ in range(60):
        limiter.take("a")
    with pytest.raises(RateLimitError) as refused:
        limiter.take("a")
    assert 0 < refused.value.retry_after_s <= 1.0
    limiter.take("b")  # other keys have their own bucket
    clock.now += 1.0
    limiter.take("a")
    with pytest.raises(RateLimitError):
        limiter.take("a")


def test_the_oldest_keys_are_forgotten_past_the_cap() -> None:
    limiter = RateLimiter(1, max_keys=2, clock=Clock())
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")  # "a" is dropped: its next request starts a fresh bucket
    limiter.take("a")
    with pytest.raises(RateLimitError):
        limiter.take("c")


TRUSTED = parse_networks(["10.0.0.0/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # an untrusted peer cannot name itself
        ("10.0.0.5", "198.51.100.7", "198.51.100.7"),  # our proxy says who it forwards
        ("10.0.0.5", "1.2.3.4, 198.51.100.7, 10.0.0.9", "198.51.100.7"),  # rightmost untrusted
        ("10.0.0.5", "not-an-ip", "10.0.0.5"),
        ("10.0.0.5", None, "10.0.0.5"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_address(peer, forwarded, TRUSTED) == expected


def test_bad_proxy_networks_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        parse_networks(["10.0.0.0/33"])

"""Politeness and resilience shared by every network source: a rate cap and retries.

S3 answers bursts with 503 SlowDown and the occasional reset connection; a bulk job of
millions of GETs must back off (exponential, with full jitter, as AWS recommends) and
must not exceed a global request rate. The cap is per process; the driver divides the
global rate by the number of worker processes before it ships the config.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class SourceError(Exception):
    """A request failed for good (after retries, or at once when retrying cannot help)."""


class NotFound(SourceError):
    """The key does not exist (404): never retried."""


class Retryable(SourceError):
    """A transient failure (5xx, SlowDown, timeout, reset): retried with backoff."""


class RateLimiter:
    """Token bucket: at most ``rate`` acquisitions per second, bursts of up to ``rate``."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = max(1.0, rate)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if self.rate <= 0:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(
                    max(1.0, self.rate), self._tokens + (now - self._last) * self.rate
                )
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            time.sleep(wait)


_LIMITERS: dict[float, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def process_limiter(rate: float) -> RateLimiter:
    """The one limiter of this process for ``rate``: tasks sharing a worker share the cap."""
    with _LIMITERS_LOCK:
        if rate not in _LIMITERS:
            _LIMITERS[rate] = RateLimiter(rate)
        return _LIMITERS[rate]


def backoff_delay(attempt: int, base: float = 0.2, cap: float = 20.0) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(cap, base * (2**attempt)))


def with_retries(
    call: Callable[[], T],
    *,
    retries: int,
    limiter: RateLimiter | None = None,
    what: str = "request",
    base_delay: float = 0.2,
) -> T:
    """Run ``call``; on Retryable, wait and try again up to ``retries`` more times."""
    attempt = 0
    while True:
        if limiter is not None:
            limiter.acquire()
        try:
            return call()
        except Retryable as exc:
            if attempt >= retries:
                raise SourceError(f"{what}: gave up after {attempt + 1} attempts: {exc}") from exc
            time.sleep(backoff_delay(attempt, base_delay))
            attempt += 1

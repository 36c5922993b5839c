"""Pacing requests to a venue, as pure arithmetic: rate limits (GCRA) and retry backoff.

Times are integer microseconds, so the same arithmetic runs in Python and in the Redis script
(`venues/redis_throttle.py`) without float rounding, and a property test can check it exactly.

GCRA (the generic cell rate algorithm) keeps one number per limit: the theoretical arrival time
(TAT) of the next request if requests came exactly at the sustained rate. A request of cost `c` is
admitted when, after adding `c` emission intervals, the TAT is no more than `burst` intervals ahead
of now. The guarantee, for any window of `w` seconds: admitted cost <= burst + w * requests / seconds.
"""

import math
from collections.abc import Sequence
from decimal import Decimal

import msgspec

MICROSECONDS = 1_000_000


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's request limit, declared as data: `requests` per `seconds` sustained, and at most
    `burst` at once (default `requests`). To respect a venue's hard rolling window of N per W, declare
    a margin: in any W seconds this admits up to `burst + requests`."""

    requests: int
    seconds: Decimal
    burst: int | None = None

    def __post_init__(self) -> None:
        if self.requests < 1 or self.seconds <= 0 or (self.burst is not None and self.burst < 1):
            raise ValueError(f"rate limit {self}: requests and burst must be >= 1 and seconds > 0")

    @property
    def emission_us(self) -> int:
        """Microseconds between requests at the sustained rate, rounded up (never faster)."""
        return math.ceil(self.seconds * MICROSECONDS / self.requests)

    @property
    def capacity(self) -> int:
        return self.burst if self.burst is not None else self.requests

    @property
    def label(self) -> str:
        """Stable text naming this limit, e.g. in a shared store's key: `10per1s`, `1200per60s-b50`."""
        text = f"{self.requests}per{self.seconds.normalize():f}s"
        return text if self.burst is None else f"{text}-b{self.burst}"


class Admission(msgspec.Struct, frozen=True):
    wait_us: int
    """0: admitted, store `tats`. Otherwise how long until the same request would be admitted."""
    tats: tuple[int, ...]


def admit(limits: Sequence[RateLimit], tats: Sequence[int], now_us: int, cost: int = 1) -> Admission:
    """Whether a request of `cost` may go now under every limit at once (all or nothing).

    `tats` holds one TAT per limit (0 for a limit never used). A refused request changes nothing.
    """
    if cost < 1:
        raise ValueError(f"a request costs at least 1, not {cost}")
    too_big = [limit for limit in limits if cost > limit.capacity]
    if too_big:
        raise ValueError(f"a request of cost {cost} can never pass {too_big[0].label} (burst too small)")
    wait = 0
    after = []
    for limit, tat in zip(limits, tats, strict=True):
        emission = limit.emission_us
        next_tat = max(tat, now_us) + cost * emission
        wait = max(wait, next_tat - now_us - limit.capacity * emission)
        after.append(next_tat)
    if wait > 0:
        return Admission(wait, tuple(tats))
    return Admission(0, tuple(after))


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How a request the venue refused as busy is tried again.

    Exponential backoff with "equal jitter": attempt n waits between half and all of
    `base_delay * 2**(n-1)`, capped at `max_delay`, so engines that were refused together do not
    retry together. A `retry_after` from the venue is used as given, unless it is longer than
    `max_delay`: then the request is not retried (an order that late would trade on a stale signal).
    """

    attempts: int = 4
    """Total tries of one request, the first included."""
    base_delay: float = 0.1
    max_delay: float = 2.0

    def delay(self, attempt: int, retry_after: float | None, draw: float) -> float | None:
        """Seconds to wait after failed try number `attempt` (from 1), or None to give up.

        `draw` is a uniform random number in [0, 1), passed in so this stays a pure function.
        """
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return max(retry_after, 0.0) if retry_after <= self.max_delay else None
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * draw

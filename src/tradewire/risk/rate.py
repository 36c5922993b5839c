"""Order rate limits: token buckets, refilled by elapsed time, never a sleep."""

from datetime import datetime
from decimal import Decimal


class TokenBucket:
    def __init__(self, rate: Decimal, burst: int, now: datetime) -> None:
        self.rate = rate
        self.burst = Decimal(burst)
        self.tokens = Decimal(burst)
        self.updated = now

    def _refill(self, now: datetime) -> None:
        elapsed = Decimal(str(max((now - self.updated).total_seconds(), 0.0)))
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated = now

    def available(self, now: datetime) -> bool:
        self._refill(now)
        return self.tokens >= 1

    def take(self, now: datetime) -> None:
        self._refill(now)
        self.tokens -= 1

"""Rate budgets: a request to a venue waits here until the venue's declared limits let it go.

`RateBudget.acquire` waits at most `max_wait` seconds in all. When the budget cannot admit the
request within that, it raises `VenueBusy` with `retry_after`, exactly as a venue answering 429
would, so the order manager's bounded retries handle both the same way and nothing is sent over
the limit. The arithmetic is `tradewire.domain.throttle.admit`; where the TATs live is a
`BudgetStore`: this process's memory (`LocalStore`), or Redis, shared by every engine that trades
on the same API key (`tradewire.venues.redis_throttle`).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from tradewire.domain.errors import VenueBusy
from tradewire.domain.throttle import MICROSECONDS, RateLimit, admit


class RateBudget(Protocol):
    async def acquire(self, cost: int = 1) -> None:
        """Return when a request of `cost` may go; raise `VenueBusy` if that is too far away."""
        ...


class Unlimited:
    """The budget of a venue that declares no limits."""

    async def acquire(self, cost: int = 1) -> None:
        return None


UNLIMITED = Unlimited()


class BudgetStore(Protocol):
    @property
    def limits(self) -> tuple[RateLimit, ...]: ...

    async def take(self, cost: int) -> int:
        """Admit a request of `cost` now and return 0, or return the microseconds to wait."""
        ...


def monotonic_us() -> int:
    return time.monotonic_ns() // 1000


class LocalStore:
    """TATs in this process's memory, on the monotonic clock: one engine, or one budget per engine."""

    def __init__(self, limits: Sequence[RateLimit], now_us: Callable[[], int] = monotonic_us) -> None:
        self.limits = tuple(limits)
        self._tats = tuple(0 for _ in self.limits)
        self._now_us = now_us

    async def take(self, cost: int) -> int:
        admission = admit(self.limits, self._tats, self._now_us(), cost)
        if admission.wait_us == 0:
            self._tats = admission.tats
        return admission.wait_us


class Budget:
    """A `RateBudget` over a store: take, else sleep as long as the store says, within `max_wait`."""

    def __init__(
        self,
        name: str,
        store: BudgetStore,
        max_wait: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.name = name
        self._store = store
        self._max_wait_us = round(max_wait * MICROSECONDS)
        self._sleep = sleep

    @property
    def limits(self) -> tuple[RateLimit, ...]:
        return self._store.limits

    async def acquire(self, cost: int = 1) -> None:
        waited = 0
        while True:
            wait = await self._store.take(cost)
            if wait == 0:
                return
            if waited + wait > self._max_wait_us:
                raise VenueBusy(
                    f"rate budget {self.name} is spent: the next request may go in"
                    f" {wait / MICROSECONDS:.3f}s",
                    retry_after=wait / MICROSECONDS,
                )
            await self._sleep(wait / MICROSECONDS)
            waited += wait

"""The in-process rate budget: it waits as long as the limits say, within its bound, and past the
bound answers like a busy venue (`VenueBusy` with `retry_after`). A manual clock: no real waiting."""

from decimal import Decimal

import pytest

from tradewire.domain.errors import VenueBusy
from tradewire.domain.throttle import MICROSECONDS, RateLimit
from tradewire.venues.throttle import UNLIMITED, Budget, LocalStore


class ManualTime:
    """A monotonic clock in microseconds that moves only when the budget sleeps."""

    def __init__(self) -> None:
        self.now_us = 5 * MICROSECONDS
        self.slept: list[float] = []

    def now(self) -> int:
        return self.now_us

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now_us += round(seconds * MICROSECONDS)


def budget(time: ManualTime, max_wait: float, *limits: RateLimit) -> Budget:
    return Budget("paper", LocalStore(limits, now_us=time.now), max_wait, sleep=time.sleep)


async def test_requests_within_the_burst_do_not_wait() -> None:
    time = ManualTime()
    paced = budget(time, 1.0, RateLimit(requests=5, seconds=Decimal(1)))
    for _ in range(5):
        await paced.acquire()
    assert time.slept == []


async def test_past_the_burst_a_request_waits_for_its_turn() -> None:
    time = ManualTime()
    paced = budget(time, 1.0, RateLimit(requests=4, seconds=Decimal(1), burst=1))
    for _ in range(3):
        await paced.acquire()
    assert time.slept == [0.25, 0.25]


async def test_a_wait_longer_than_the_bound_is_a_busy_answer_with_retry_after() -> None:
    time = ManualTime()
    paced = budget(time, 0.5, RateLimit(requests=1, seconds=Decimal(60)))
    await paced.acquire()
    with pytest.raises(VenueBusy, match="rate budget paper is spent") as busy:
        await paced.acquire()
    assert busy.value.retry_after == 60.0
    assert time.slept == [], "it does not wait for a turn it cannot reach"


async def test_several_waiters_are_each_admitted_in_turn_never_faster() -> None:
    time = ManualTime()
    limit = RateLimit(requests=10, seconds=Decimal(1), burst=2)
    paced = budget(time, 10.0, limit)
    admitted = []
    for _ in range(12):
        await paced.acquire()
        admitted.append(time.now_us)
    span = Decimal(admitted[-1] - admitted[0]) / MICROSECONDS
    assert len(admitted) <= limit.capacity + span * limit.requests / limit.seconds


async def test_a_venue_without_limits_is_never_paced() -> None:
    for _ in range(1000):
        await UNLIMITED.acquire()

"""One request to a venue: its rate budget first, then the call, retried only while the venue is busy.

Only `VenueBusy` is retried, because only then does the venue guarantee it did not act: trying
again cannot duplicate anything. Every other failure ends the request. In particular a timeout or
an I/O error (an unknown outcome) is never retried: the venue may have the order, and the engine
settles it by asking (see docs/recovery.md). Before each try `proceed` is asked whether the request
may still go (the kill switch may have engaged, the order may have been canceled meanwhile).

Each try is bounded by a timeout. A timeout can only interrupt a request where it waits on the
loop, so the timer is armed at the request's first wait, with the deadline taken before the
request started: a request that never waits (an adapter that writes to its transport and
returns) costs no timer at all, and its bytes leave without waiting for one to be set up.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

import msgspec

from tradewire.domain.errors import VenueBusy, VenueUnavailable
from tradewire.domain.throttle import RetryPolicy
from tradewire.venues.throttle import RateBudget


class Sent(msgspec.Struct, frozen=True):
    """The venue took the request; its answer comes as reports."""

    attempts: int


class GaveUp(msgspec.Struct, frozen=True):
    """Busy at every try (or it asked for a wait longer than the policy allows); never acted."""

    attempts: int
    error: VenueBusy

    @property
    def reason(self) -> str:
        tries = "once" if self.attempts == 1 else f"{self.attempts} times"
        return f"not sent: venue busy {tries}: {self.error}"


class Stopped(msgspec.Struct, frozen=True):
    """`proceed` refused a try; the venue has not acted on any earlier one."""

    attempts: int
    reason: str


class Failed(msgspec.Struct, frozen=True):
    """The venue certainly did not act: not connected, refused (`VenueRefused`), or
    credentials refused (`VenueAuthFailed`)."""

    error: VenueUnavailable


class Unknown(msgspec.Struct, frozen=True):
    """Timeout or I/O error: the venue may or may not have acted. Never retried."""

    error: OSError


Outcome = Sent | GaveUp | Stopped | Failed | Unknown

Retrying = Callable[[int, VenueBusy, float], None]
"""Called with (failed try, the error, seconds until the next try) before waiting: journal it."""


class VenueCaller:
    """Runs requests under a retry policy, a timeout per try, and a rate budget per venue."""

    def __init__(
        self,
        policy: RetryPolicy,
        timeout: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self._sleep = sleep
        self._draw = draw

    async def call(
        self,
        request: Callable[[], Coroutine[Any, Any, None]],
        budget: RateBudget,
        *,
        proceed: Callable[[], str | None],
        retrying: Retrying,
    ) -> Outcome:
        """Try `request` until it is sent or cannot be; `proceed` returns a reason to stop, or None."""
        attempt = 0
        while True:
            attempt += 1
            try:
                await budget.acquire()
                stop = proceed()
                if stop is not None:
                    return Stopped(attempt - 1, stop)
                await within(request(), asyncio.get_running_loop().time() + self.timeout)
            except VenueBusy as busy:
                delay = self.policy.delay(attempt, busy.retry_after, self._draw())
                if delay is None:
                    return GaveUp(attempt, busy)
                retrying(attempt, busy, delay)
                await self._sleep(delay)
                continue
            except VenueUnavailable as error:
                return Failed(error)
            except OSError as error:  # TimeoutError is an OSError
                return Unknown(error)
            return Sent(attempt)


async def within(request: Coroutine[Any, Any, None], deadline: float) -> None:
    """Await `request`, raising `TimeoutError` if it is still waiting at `deadline` (loop time),
    exactly as under `asyncio.timeout_at(deadline)`; the timer is armed only if it waits at all."""
    try:
        waiting_on = request.send(None)
    except StopIteration:
        return  # done without waiting: the loop never ran, so no timeout could have fired
    async with asyncio.timeout_at(deadline):
        await _Resumed(request, waiting_on)


class _Resumed:
    """The rest of a coroutine that has already run up to its first wait, awaited as the coroutine
    itself would be: what it waits on goes to the task, and what the task sends or throws (a
    result, or the timeout's cancellation) goes back to it."""

    def __init__(self, request: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._request = request
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        request, waiting_on = self._request, self._waiting_on
        while True:
            try:
                answer = yield waiting_on
            except GeneratorExit:
                request.close()
                raise
            except BaseException as error:  # handed on to the request, as `await` does
                try:
                    waiting_on = request.throw(error)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = request.send(answer)
                except StopIteration:
                    return

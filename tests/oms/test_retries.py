"""The venue caller on its own: a try is bounded by its timeout whether the request waits or not,
what a request waits on reaches it unchanged, and only a busy venue is tried again."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from tradewire.domain.errors import VenueBusy
from tradewire.domain.throttle import RetryPolicy
from tradewire.oms.retries import Outcome, Sent, Unknown, VenueCaller, within
from tradewire.venues.throttle import UNLIMITED

TIMEOUT = 0.05


async def no_sleep(_: float) -> None:
    return None


def caller() -> VenueCaller:
    return VenueCaller(RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01), TIMEOUT, sleep=no_sleep)


async def call(venue_caller: VenueCaller, request: Callable[[], Coroutine[Any, Any, None]]) -> Outcome:
    return await venue_caller.call(
        request,
        UNLIMITED,
        proceed=lambda: None,
        retrying=lambda attempt, error, delay: None,
    )


async def test_a_request_that_never_waits_is_sent() -> None:
    done = []

    async def request() -> None:
        done.append(True)

    assert await call(caller(), request) == Sent(1)
    assert done == [True]


async def test_a_request_that_waits_and_answers_in_time_is_sent_with_what_it_waited_for() -> None:
    answers = []

    async def request() -> None:
        await asyncio.sleep(0)
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.001, future.set_result, "ack")
        answers.append(await future)

    assert await call(caller(), request) == Sent(1)
    assert answers == ["ack"]


async def test_a_request_still_waiting_at_the_deadline_is_an_unknown_outcome_and_is_stopped() -> None:
    stopped = []

    async def request() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            stopped.append(True)

    outcome = await call(caller(), request)
    assert isinstance(outcome, Unknown)
    assert isinstance(outcome.error, TimeoutError)
    assert stopped == [True]


async def test_an_error_raised_after_a_wait_reaches_the_caller() -> None:
    tries = 0

    async def request() -> None:
        nonlocal tries
        tries += 1
        await asyncio.sleep(0)
        if tries == 1:
            raise VenueBusy("slow down")

    assert await call(caller(), request) == Sent(2)


async def test_a_cancel_from_outside_while_the_request_waits_is_a_cancel_not_a_timeout() -> None:
    seen: list[type[BaseException]] = []
    waiting = asyncio.Event()

    async def request() -> None:
        waiting.set()
        try:
            await asyncio.sleep(10)
        except BaseException as error:
            seen.append(type(error))
            raise

    task = asyncio.create_task(call(caller(), request))
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [asyncio.CancelledError]


async def test_within_times_out_a_request_that_waits_past_a_deadline_already_gone() -> None:
    loop = asyncio.get_running_loop()

    async def request() -> None:
        await asyncio.sleep(1)

    with pytest.raises(TimeoutError):
        await within(request(), loop.time() - 1)

"""One user-data WebSocket subscription (ccxt.pro `watch_*`), received forever and resubscribed.

ccxt.pro reconnects the socket on the next `watch_*` call after a failure; this loop supplies the
waiting (doubling up to a maximum), marks the stream down meanwhile so the venue reports itself
disconnected (the engine reconciles when it comes back), and stops for good when the exchange
refuses our credentials. Any other failure, even one that is a fault inside ccxt, is retried: a
watch loop that died quietly would leave the venue down for good.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ccxt.base import errors as ccxt_errors

logger = logging.getLogger(__name__)

Updates = list[dict[str, Any]]


@dataclass
class UserStream:
    name: str
    receive: Callable[[], Coroutine[Any, Any, Updates]]
    handle: Callable[[Updates], Coroutine[Any, Any, None]]
    delays: tuple[float, float]
    """(first wait before resubscribing, longest wait)."""
    running: Callable[[], bool]
    on_state: Callable[[str, bool], None]
    """Called with (stream name, up) when the stream fails and when it is tried again."""
    on_auth_failure: Callable[[BaseException], None]
    describe: Callable[[BaseException], str]
    """The error as text with secrets redacted."""

    async def run(self) -> None:
        first, longest = self.delays
        delay = first
        while self.running():
            try:
                updates = await self.receive()
            except Exception as error:  # the task's boundary: nothing may end the loop but a refusal
                refusal = auth_failure(error)
                if refusal is not None:
                    self.on_auth_failure(refusal)
                    return
                if isinstance(error, ccxt_errors.BaseError | OSError):
                    logger.warning(
                        "%s failed: %s; subscribing again in %.1fs", self.name, self.describe(error), delay
                    )
                else:
                    # A fault inside ccxt itself (seen: a KeyError while it handled a refusal): log it
                    # whole, and carry on as after any other failure.
                    logger.error(
                        "%s failed unexpectedly; subscribing again in %.1fs", self.name, delay, exc_info=error
                    )
                self.on_state(self.name, False)
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
                self.on_state(self.name, True)
                continue
            delay = first
            await self.handle(updates)


def auth_failure(error: BaseException) -> ccxt_errors.AuthenticationError | None:
    """The credentials refusal behind `error`, if any: ccxt sometimes raises another error while it
    handles one (the refusal is then its `__context__`)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ccxt_errors.AuthenticationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None

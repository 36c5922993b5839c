"""Client order IDs and event IDs that are unique across restarts, even if the journal is lost.

Each engine run takes a run stamp (milliseconds since the epoch, base 36, strictly greater than any
stamp the journal has seen) and counts from there: `TW<stamp><counter>`, short enough for every
venue's client order ID field (Binance allows 36 characters, FIX and IB more).
"""

from datetime import datetime

from tradewire.domain.clock import Clock
from tradewire.domain.events import Header
from tradewire.domain.ids import ClientOrderId, EventId, SignalId

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    if number < 0:
        raise ValueError("base36 takes a non-negative integer")
    if number == 0:
        return "0"
    digits = []
    while number:
        number, remainder = divmod(number, 36)
        digits.append(_DIGITS[remainder])
    return "".join(reversed(digits))


class IdGenerator:
    def __init__(self, started_at: datetime, prefix: str = "TW") -> None:
        stamp = base36(int(started_at.timestamp() * 1000))
        self._order_prefix = f"{prefix}{stamp}-"
        self._event_prefix = f"E{stamp}-"
        self._signal_prefix = f"S{stamp}-"
        self._orders = 0
        self._events = 0
        self._signals = 0

    def client_order_id(self) -> ClientOrderId:
        self._orders += 1
        return ClientOrderId(self._order_prefix + base36(self._orders))

    def event_id(self) -> EventId:
        self._events += 1
        return EventId(self._event_prefix + base36(self._events))

    def signal_id(self) -> SignalId:
        self._signals += 1
        return SignalId(self._signal_prefix + base36(self._signals))


class Stamp:
    """The header of a new record: a fresh event ID, when it happened (default now) and now."""

    def __init__(self, ids: IdGenerator, clock: Clock) -> None:
        self._ids = ids
        self._clock = clock

    def __call__(self, ts_event: datetime | None = None) -> Header:
        now = self._clock.now()
        return {"event_id": self._ids.event_id(), "ts_event": ts_event or now, "ts_recorded": now}

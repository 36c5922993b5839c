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
_PAIRS = tuple(high + low for high in _DIGITS for low in _DIGITS)
"""Every two-digit base 36 string, "00" to "zz", indexed by its value (0 to 1295)."""
_PAIR = len(_PAIRS)


def base36(number: int) -> str:
    if number < 0:
        raise ValueError("base36 takes a non-negative integer")
    if number < 36:
        return _DIGITS[number]
    if number < _PAIR:
        return _PAIRS[number]  # 36 and up: the pair has no leading zero
    high, low = divmod(number, _PAIR)
    return base36(high) + _PAIRS[low]


class _Sequence:
    """`prefix + base36(n)` for n = 1, 2, 3... The digits above the last two change only every
    1,296 numbers, so they are converted once per change and kept with the prefix."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._count = 0
        self._high = 0
        self._head = prefix

    def __next__(self) -> str:
        self._count += 1
        high, low = divmod(self._count, _PAIR)
        if not high:
            return self._prefix + (_DIGITS[low] if low < 36 else _PAIRS[low])
        if high != self._high:
            self._high = high
            self._head = self._prefix + base36(high)
        return self._head + _PAIRS[low]


class IdGenerator:
    def __init__(self, started_at: datetime, prefix: str = "TW") -> None:
        stamp = base36(int(started_at.timestamp() * 1000))
        self._orders = _Sequence(f"{prefix}{stamp}-")
        self._events = _Sequence(f"E{stamp}-")
        self._signals = _Sequence(f"S{stamp}-")

    def client_order_id(self) -> ClientOrderId:
        return ClientOrderId(next(self._orders))

    def event_id(self) -> EventId:
        return EventId(next(self._events))

    def signal_id(self) -> SignalId:
        return SignalId(next(self._signals))


class Stamp:
    """The header of a new record: a fresh event ID, when it happened (default now) and now."""

    def __init__(self, ids: IdGenerator, clock: Clock) -> None:
        self._ids = ids
        self._clock = clock

    def __call__(self, ts_event: datetime | None = None) -> Header:
        now = self._clock.now()
        return {"event_id": self._ids.event_id(), "ts_event": ts_event or now, "ts_recorded": now}

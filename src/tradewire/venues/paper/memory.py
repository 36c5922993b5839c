"""The paper venue's state when it has no file: plain Python data, lost when the process ends.

Nothing is written anywhere, but what is only ever read again by a query is compacted as it is
saved: a closed order (its status, why a cancel came too late) and a fill (reconciliation) are each
kept as one msgpack array of their field values, about 120 bytes, rather than a struct with its own
decimals, strings and timestamps (about 450 bytes an order, 500 a fill). Encoding one costs about a
microsecond; reading one back a few, which only the query methods pay. Working orders stay structs:
the venue matches them on every step.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal

import msgspec

from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId
from tradewire.domain.reports import FillReport
from tradewire.domain.values import ZERO
from tradewire.venues.paper.matching import PaperOrder


class _ClosedOrder(PaperOrder, frozen=True, array_like=True, gc=False):
    """A `PaperOrder` read back from its compact form (an array of its field values)."""


class _SavedFill(FillReport, frozen=True, array_like=True, gc=False, tag=False):
    """A `FillReport` read back from its compact form (an array of its field values)."""


_compact = msgspec.msgpack.Encoder().encode
_order_decoder = msgspec.msgpack.Decoder(_ClosedOrder)
_fill_decoder = msgspec.msgpack.Decoder(_SavedFill)


def _order(data: bytes) -> PaperOrder:
    return PaperOrder(**msgspec.structs.asdict(_order_decoder.decode(data)))


def _as_report(saved: _SavedFill) -> FillReport:
    """A plain `FillReport` again: the compact class encodes differently (an untagged array)."""
    return FillReport(**msgspec.structs.asdict(saved))


def kept_position(
    positions: dict[tuple[AccountId, InstrumentId], Decimal],
    account: AccountId,
    instrument: InstrumentId,
    fills: Callable[..., list[FillReport]],
) -> Decimal:
    """An account's signed position in an instrument: summed from its `fills` the first time it is
    asked for, then kept in `positions` (each store updates it on every fill it saves)."""
    key = (account, instrument)
    position = positions.get(key)
    if position is None:
        position = sum(
            (f.quantity * f.side.sign for f in fills(account=account, instrument=instrument)), ZERO
        )
        positions[key] = position
    return position


class MemoryStore:
    """The venue's state in memory: saves return at once, queries read Python structures."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}
        self._open: dict[ClientOrderId, PaperOrder] = {}
        self._closed: dict[ClientOrderId, bytes] = {}
        """Closed and rejected orders, compacted (see the module docstring)."""
        self._fills: list[bytes] = []
        """Every fill in the order saved, compacted."""
        self._positions: dict[tuple[AccountId, InstrumentId], Decimal] = {}
        """Signed positions per (account, instrument), filled in on first use, kept up to date."""
        self._feed_state: dict[str, str] = {}

    def close(self) -> None:
        """Nothing to release: the state goes with the process."""

    def next_number(self, counter: str) -> int:
        value = self._counters.get(counter, 0) + 1
        self._counters[counter] = value
        return value

    def save(
        self,
        orders: Iterable[PaperOrder] = (),
        fills: Iterable[FillReport] = (),
        feed_state: Mapping[str, str] | None = None,
    ) -> None:
        for order in orders:
            client_order_id = order.client_order_id
            if order.is_open:
                self._open[client_order_id] = order
                self._closed.pop(client_order_id, None)
            else:
                self._open.pop(client_order_id, None)
                self._closed[client_order_id] = _compact(msgspec.structs.astuple(order))
        if fills:
            positions = self._positions
            for fill in fills:
                self._fills.append(_compact(msgspec.structs.astuple(fill)))
                key = (fill.account, fill.instrument)
                if key in positions:
                    positions[key] += fill.quantity * fill.side.sign
        if feed_state is not None:
            self._feed_state.update(feed_state)

    def knows(self, client_order_id: ClientOrderId) -> bool:
        return client_order_id in self._open or client_order_id in self._closed

    def order(self, client_order_id: ClientOrderId) -> PaperOrder | None:
        working = self._open.get(client_order_id)
        if working is not None:
            return working
        closed = self._closed.get(client_order_id)
        return None if closed is None else _order(closed)

    def open_orders(self, account: AccountId | None = None) -> list[PaperOrder]:
        orders = [o for o in self._open.values() if account is None or o.account == account]
        orders.sort(key=lambda o: o.sequence)
        return orders

    def fills(
        self,
        since: datetime | None = None,
        account: AccountId | None = None,
        instrument: InstrumentId | None = None,
    ) -> list[FillReport]:
        if since is not None and since.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        found: list[FillReport] = []
        for data in self._fills:
            saved = _fill_decoder.decode(data)
            if (
                (since is None or saved.ts_event >= since)
                and (account is None or saved.account == account)
                and (instrument is None or saved.instrument == instrument)
            ):
                found.append(_as_report(saved))
        return found

    def position(self, account: AccountId, instrument: InstrumentId) -> Decimal:
        return kept_position(self._positions, account, instrument, self.fills)

    def feed_state(self) -> dict[str, str]:
        return dict(self._feed_state)

"""Factories for the paper venue tests: order specs, a report recorder, venues and quote files."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewire.domain.clock import ManualClock
from tradewire.domain.enums import OrderType, Side, TimeInForce, VenueOrderStatus
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    VenueId,
)
from tradewire.domain.market import Quote
from tradewire.domain.reports import (
    CancelRejectReport,
    ExecutionReport,
    FillReport,
    OrderStatusReport,
)
from tradewire.venues.paper import PaperVenue, PaperVenueConfig
from tradewire.venues.port import OrderRef

ACCOUNT = AccountId("acct-1")
START = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def spec(
    client_order_id: str,
    *,
    instrument: str = "AAPL",
    side: Side = Side.BUY,
    quantity: str = "100",
    order_type: OrderType = OrderType.MARKET,
    time_in_force: TimeInForce = TimeInForce.GTC,
    limit_price: str | None = None,
    stop_price: str | None = None,
    account: AccountId = ACCOUNT,
    venue: str = "paper",
    reduce_only: bool = False,
) -> OrderSpec:
    return OrderSpec(
        client_order_id=ClientOrderId(client_order_id),
        account=account,
        strategy=StrategyId("strategy-1"),
        instrument=InstrumentId(instrument),
        venue=VenueId(venue),
        side=side,
        order_type=order_type,
        quantity=Decimal(quantity),
        time_in_force=time_in_force,
        limit_price=None if limit_price is None else Decimal(limit_price),
        stop_price=None if stop_price is None else Decimal(stop_price),
        reduce_only=reduce_only,
    )


def ref(order: OrderSpec) -> OrderRef:
    return OrderRef(
        client_order_id=order.client_order_id,
        venue_order_id=None,
        account=order.account,
        instrument=order.instrument,
    )


class Recorder:
    """Collects everything a venue delivers, in delivery order."""

    def __init__(self) -> None:
        self.reports: list[ExecutionReport] = []
        self.quotes: list[Quote] = []
        self.connection: list[bool] = []
        self.inside_request = False
        self.delivered_inside_request = False

    def on_report(self, report: ExecutionReport) -> None:
        if self.inside_request:
            self.delivered_inside_request = True
        self.reports.append(report)

    def on_quote(self, quote: Quote) -> None:
        self.quotes.append(quote)

    def on_connection(self, venue: VenueId, connected: bool) -> None:
        self.connection.append(connected)

    def statuses(self, client_order_id: str) -> list[VenueOrderStatus]:
        return [
            r.status
            for r in self.reports
            if isinstance(r, OrderStatusReport) and r.client_order_id == client_order_id
        ]

    def last_status(self, client_order_id: str) -> OrderStatusReport:
        found = [
            r
            for r in self.reports
            if isinstance(r, OrderStatusReport) and r.client_order_id == client_order_id
        ]
        assert found, f"no status report for {client_order_id}"
        return found[-1]

    def fills(self, client_order_id: str | None = None) -> list[FillReport]:
        return [
            r
            for r in self.reports
            if isinstance(r, FillReport) and (client_order_id is None or r.client_order_id == client_order_id)
        ]

    def cancel_rejects(self) -> list[CancelRejectReport]:
        return [r for r in self.reports if isinstance(r, CancelRejectReport)]


def make_venue(clock: ManualClock | None = None, **settings: Any) -> tuple[PaperVenue, ManualClock]:
    """A manual-mode venue (no background feed) in memory unless `path` is given."""
    clock = clock or ManualClock(START)
    settings.setdefault("tick_interval", None)
    return PaperVenue(PaperVenueConfig(**settings), clock), clock


async def connected_venue(
    clock: ManualClock | None = None, **settings: Any
) -> tuple[PaperVenue, Recorder, ManualClock]:
    venue, clock = make_venue(clock, **settings)
    recorder = Recorder()
    await venue.connect(recorder.on_report, recorder.on_quote, recorder.on_connection)
    return venue, recorder, clock


async def settle() -> None:
    """Let the loop run the callbacks that deliver reports scheduled with no latency."""
    for _ in range(5):
        await asyncio.sleep(0)


def write_quotes(path: Path, rows: Sequence[str]) -> Path:
    """A quotes CSV with the standard header; each row is `ts,instrument,bid,ask,bid_size,ask_size`."""
    path.write_text("ts,instrument,bid,ask,bid_size,ask_size\n" + "\n".join(rows) + "\n")
    return path

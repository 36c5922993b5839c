"""The contract every venue adapter passes, written against `VenueClient` only.

Each adapter joins the suite with a factory that yields the adapter and a small driver: the driver
knows one tradeable instrument and account, and can move the adapter's market (a paper step, a fake
exchange tick), which is all the suite needs beyond the protocol. To add an adapter, write a factory
and append it to `ADAPTERS`.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import pytest

from tests.fakes.exchange import FakeExchange
from tests.venues.ccxt import on_fake as ccxt_on_fake
from tradewire.domain.clock import LiveClock, ManualClock
from tradewire.domain.enums import (
    VENUE_TERMINAL_STATUSES,
    OrderType,
    Side,
    TimeInForce,
    VenueOrderStatus,
)
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, StrategyId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.market import Quote
from tradewire.domain.reports import (
    CancelRejectReport,
    ExecutionReport,
    FillReport,
    OrderStatusReport,
)
from tradewire.domain.values import ZERO
from tradewire.venues.ccxt.client import CcxtVenue
from tradewire.venues.failover import PRIMARY, Connection, FailoverVenue
from tradewire.venues.paper import PaperVenue, PaperVenueConfig
from tradewire.venues.port import ConnectionHandler, OrderRef, QuoteHandler, ReportHandler, VenueClient

WAIT_SECONDS = 5.0


class VenueDriver(Protocol):
    """The per-adapter knowledge the suite needs beyond the protocol."""

    @property
    def account(self) -> AccountId: ...

    @property
    def instrument(self) -> Instrument: ...

    @property
    def fillable_quantity(self) -> Decimal:
        """A quantity a market order fills completely right away."""
        ...

    def passive_price(self, side: Side) -> Decimal:
        """A limit price, on the tick, that rests without filling for the length of a test."""
        ...

    async def advance(self) -> None:
        """Let the venue make progress: move the market one step, or wait for its I/O."""
        ...


Adapter = tuple[VenueClient, VenueDriver]
AdapterFactory = Callable[[Path], AbstractAsyncContextManager[Adapter]]


# --- the paper venue -------------------------------------------------------------------------------


@dataclass
class PaperDriver:
    venue: PaperVenue
    account: AccountId
    instrument: Instrument
    fillable_quantity: Decimal

    def passive_price(self, side: Side) -> Decimal:
        quote = self.venue.current_quote(self.instrument.instrument_id)
        assert quote is not None
        away = 50 * self.instrument.tick_size
        return quote.bid - away if side is Side.BUY else quote.ask + away

    async def advance(self) -> None:
        await self.venue.step()


@asynccontextmanager
async def paper_adapter(directory: Path) -> AsyncIterator[Adapter]:
    config = PaperVenueConfig(path=directory / "paper-venue.sqlite", tick_interval=None)
    venue = PaperVenue(config, ManualClock())
    [instrument] = [i for i in venue.instruments() if i.instrument_id == "AAPL"]
    driver = PaperDriver(venue, AccountId("contract-account"), instrument, Decimal(10))
    try:
        yield venue, driver
    finally:
        await venue.close()


@asynccontextmanager
async def failover_adapter(directory: Path) -> AsyncIterator[Adapter]:
    """The paper venue behind the failover wrapper, with a backup session it never needs here."""
    async with paper_adapter(directory) as (primary, driver):
        assert isinstance(primary, PaperVenue)
        backup = Connection("backup-1", primary.new_session)
        venue = FailoverVenue([Connection(PRIMARY, primary.new_session), backup], first=primary)
        try:
            yield venue, driver
        finally:
            await venue.close()


# --- the ccxt venue against the local fake exchange ---------------------------------------------------


@dataclass
class FakeExchangeDriver:
    """Drives a `CcxtVenue` whose exchange is the local fake (tests/fakes/exchange): the fake's book
    stays at its starting touch (99/101) unless a test moves it, and every request is real I/O."""

    fake: FakeExchange
    account: AccountId
    instrument: Instrument
    fillable_quantity: Decimal = Decimal("0.01")

    def passive_price(self, side: Side) -> Decimal:
        bid, ask = self.fake.engine.top(ccxt_on_fake.BOOK)
        away = 100 * self.instrument.tick_size
        return bid - away if side is Side.BUY else ask + away

    async def advance(self) -> None:
        await asyncio.sleep(0.01)


class SubscribedCcxtVenue(CcxtVenue):
    """`CcxtVenue` whose `connect` returns once the fake exchange has the user-data subscription.

    ccxt.pro gives no signal when an exchange has taken a subscription, so the adapter's `connect`
    returns while it is still being made; an order that fills within those milliseconds is learned
    from the reconciliation the engine runs after every connect (docs/venues/ccxt.md). The suite
    submits right after connecting, so it waits for what the fake's server sees."""

    def __init__(self, fake: FakeExchange, exchange: str, api_key: str, directory: Path) -> None:
        config = ccxt_on_fake.fake_config(fake, exchange, directory)
        super().__init__(config, LiveClock(), ccxt_on_fake.credentials(api_key))
        self._subscribed = ccxt_on_fake.subscribed(fake, exchange, api_key)

    async def connect(
        self, on_report: ReportHandler, on_quote: QuoteHandler, on_connection: ConnectionHandler
    ) -> None:
        await super().connect(on_report, on_quote, on_connection)
        await ccxt_on_fake.until(self._subscribed, "the user-data subscription")


def ccxt_adapter(exchange: str) -> AdapterFactory:
    @asynccontextmanager
    async def factory(directory: Path) -> AsyncIterator[Adapter]:
        async with FakeExchange() as fake:
            # An account holding only quote currency: its spot position is exactly what it bought.
            fake.add_account("contract-key", {"USDT": Decimal(1_000_000)})
            venue = SubscribedCcxtVenue(fake, exchange, "contract-key", directory)
            [instrument] = venue.instruments()
            try:
                yield venue, FakeExchangeDriver(fake, ccxt_on_fake.ACCOUNT, instrument)
            finally:
                await venue.close()

    factory.__name__ = f"ccxt_{exchange}_adapter"
    return factory


ADAPTERS: list[AdapterFactory] = [
    paper_adapter,
    failover_adapter,
    ccxt_adapter("binance"),
    ccxt_adapter("bybit"),
]


# --- the suite -------------------------------------------------------------------------------------


class Received:
    """What the adapter delivered, and whether a report about an order arrived while a request about
    that order was in progress."""

    def __init__(self) -> None:
        self.reports: list[ExecutionReport] = []
        self.quotes: list[Quote] = []
        self.connection: list[tuple[VenueId, bool]] = []
        self.in_request: ClientOrderId | None = None
        self.delivered_during_request = False

    def on_report(self, report: ExecutionReport) -> None:
        self.delivered_during_request |= report.client_order_id == self.in_request
        self.reports.append(report)

    def on_quote(self, quote: Quote) -> None:
        self.quotes.append(quote)

    def on_connection(self, venue: VenueId, connected: bool) -> None:
        self.connection.append((venue, connected))

    def statuses(self, client_order_id: ClientOrderId) -> list[OrderStatusReport]:
        return [
            r
            for r in self.reports
            if isinstance(r, OrderStatusReport) and r.client_order_id == client_order_id
        ]

    def fills(self, client_order_id: ClientOrderId | None = None) -> list[FillReport]:
        return [
            r
            for r in self.reports
            if isinstance(r, FillReport) and (client_order_id is None or r.client_order_id == client_order_id)
        ]


@dataclass
class Session:
    venue: VenueClient
    driver: VenueDriver
    received: Received

    def order(
        self,
        side: Side = Side.BUY,
        order_type: OrderType = OrderType.MARKET,
        limit_price: Decimal | None = None,
        client_order_id: ClientOrderId | None = None,
    ) -> OrderSpec:
        return OrderSpec(
            client_order_id=client_order_id or ClientOrderId(f"ct-{uuid.uuid4().hex[:16]}"),
            account=self.driver.account,
            strategy=StrategyId("contract"),
            instrument=self.driver.instrument.instrument_id,
            venue=self.venue.venue,
            side=side,
            order_type=order_type,
            quantity=self.driver.fillable_quantity,
            time_in_force=TimeInForce.GTC,
            limit_price=limit_price,
        )

    def resting_order(self, side: Side = Side.BUY) -> OrderSpec:
        return self.order(side, OrderType.LIMIT, self.driver.passive_price(side))

    async def request(self, call: Awaitable[None], about: ClientOrderId | None = None) -> None:
        """Await a request, noting any report about the order `about` that arrives before it returns.

        A coroutine runs only when awaited, so the mark is set for the whole request. Reports about
        other orders may arrive meanwhile: over a network the venue's stream does not pause while a
        request is on its way.
        """
        self.received.in_request = about
        try:
            await call
        finally:
            self.received.in_request = None

    async def until(self, condition: Callable[[], bool]) -> None:
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "timed out waiting for reports"
            await asyncio.sleep(0.01)

    def last_status(self, client_order_id: ClientOrderId) -> VenueOrderStatus | None:
        statuses = self.received.statuses(client_order_id)
        return statuses[-1].status if statuses else None


def ref(order: OrderSpec) -> OrderRef:
    return OrderRef(
        client_order_id=order.client_order_id,
        venue_order_id=None,
        account=order.account,
        instrument=order.instrument,
    )


@pytest.fixture(params=ADAPTERS, ids=lambda factory: factory.__name__)
async def session(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Session]:
    factory: AdapterFactory = request.param
    async with factory(tmp_path) as (venue, driver):
        received = Received()
        await venue.connect(received.on_report, received.on_quote, received.on_connection)
        yield Session(venue, driver, received)


async def test_connecting_reports_the_connection_up(session: Session) -> None:
    await session.until(lambda: bool(session.received.connection))

    assert session.venue.connected
    assert session.received.connection[-1] == (session.venue.venue, True)


async def test_the_venue_declares_the_instrument_it_is_driven_with(session: Session) -> None:
    instruments = {i.instrument_id: i for i in session.venue.instruments()}

    assert instruments[session.driver.instrument.instrument_id].venue == session.venue.venue
    assert OrderType.LIMIT in session.venue.capabilities.order_types
    assert session.venue.capabilities.max_client_order_id_length >= 20


async def test_a_market_order_is_accepted_then_filled_with_matching_quantities(
    session: Session,
) -> None:
    order = session.order()

    await session.request(session.venue.submit(order))
    await session.until(lambda: session.last_status(order.client_order_id) is VenueOrderStatus.FILLED)

    statuses = session.received.statuses(order.client_order_id)
    assert statuses[0].status is VenueOrderStatus.ACCEPTED
    assert statuses[0].venue_order_id
    final = statuses[-1]
    fills = session.received.fills(order.client_order_id)
    assert sum(f.quantity for f in fills) == order.quantity == final.filled_quantity
    assert final.average_price is not None
    assert final.average_price * final.filled_quantity == sum(f.quantity * f.price for f in fills)
    assert len({f.fill_id for f in fills}) == len(fills)
    assert all(f.side is order.side and f.account == order.account for f in fills)


async def test_a_resting_order_can_be_canceled(session: Session) -> None:
    order = session.resting_order()
    await session.request(session.venue.submit(order))
    await session.until(lambda: session.last_status(order.client_order_id) is not None)
    assert session.last_status(order.client_order_id) is VenueOrderStatus.ACCEPTED

    await session.request(session.venue.cancel(ref(order)))
    await session.until(lambda: session.last_status(order.client_order_id) in VENUE_TERMINAL_STATUSES)

    assert session.last_status(order.client_order_id) is VenueOrderStatus.CANCELED
    open_ids = {o.client_order_id for o in await session.venue.open_orders(order.account)}
    assert order.client_order_id not in open_ids


async def test_a_cancel_of_an_unknown_order_is_refused(session: Session) -> None:
    unknown = session.order()

    await session.request(session.venue.cancel(ref(unknown)))
    await session.until(lambda: any(isinstance(r, CancelRejectReport) for r in session.received.reports))

    [reject] = [r for r in session.received.reports if isinstance(r, CancelRejectReport)]
    assert reject.client_order_id == unknown.client_order_id


async def test_a_duplicate_client_order_id_is_rejected(session: Session) -> None:
    first = session.resting_order()
    await session.request(session.venue.submit(first))
    await session.until(lambda: session.last_status(first.client_order_id) is not None)
    again = session.order(client_order_id=first.client_order_id)

    await session.request(session.venue.submit(again))
    await session.until(lambda: len(session.received.statuses(first.client_order_id)) >= 2)

    assert session.last_status(first.client_order_id) is VenueOrderStatus.REJECTED
    assert session.received.fills(first.client_order_id) == []
    status = await session.venue.order_status(first.client_order_id)
    assert status is not None
    assert status.status is VenueOrderStatus.ACCEPTED
    assert status.order_type is OrderType.LIMIT


async def test_reports_are_never_delivered_from_inside_a_request(session: Session) -> None:
    market = session.order()
    resting = session.resting_order(Side.SELL)

    await session.request(session.venue.submit(market), about=market.client_order_id)
    await session.request(session.venue.submit(resting), about=resting.client_order_id)
    await session.request(session.venue.cancel(ref(resting)), about=resting.client_order_id)
    await session.until(lambda: session.last_status(resting.client_order_id) is not None)
    await session.until(lambda: session.last_status(market.client_order_id) is not None)

    assert not session.received.delivered_during_request


async def test_the_queries_agree_with_the_reports_received(session: Session) -> None:
    market_orders = [session.order(Side.BUY), session.order(Side.SELL), session.order(Side.BUY)]
    resting = session.resting_order(Side.BUY)
    for order in [*market_orders, resting]:
        await session.request(session.venue.submit(order))
    market_ids = [o.client_order_id for o in market_orders]
    await session.until(
        lambda: (
            all(session.last_status(c) is VenueOrderStatus.FILLED for c in market_ids)
            and session.last_status(resting.client_order_id) is not None
        )
    )

    for client_order_id in [*market_ids, resting.client_order_id]:
        status = await session.venue.order_status(client_order_id)
        last = session.received.statuses(client_order_id)[-1]
        assert status is not None
        assert (status.status, status.filled_quantity, status.venue_order_id) == (
            last.status,
            last.filled_quantity,
            last.venue_order_id,
        )
    open_ids = {o.client_order_id for o in await session.venue.open_orders(resting.account)}
    assert resting.client_order_id in open_ids
    assert not open_ids & set(market_ids)

    received_fills = session.received.fills()
    since = min(f.ts_event for f in received_fills)
    queried = {f.fill_id: f for f in await session.venue.fills_since(since, resting.account)}
    assert {f.fill_id: f for f in received_fills}.items() <= queried.items()

    net = sum((f.quantity * f.side.sign for f in received_fills), ZERO)
    positions = [
        p for p in await session.venue.positions(resting.account) if p.instrument == resting.instrument
    ]
    assert sum((p.quantity for p in positions), ZERO) == net

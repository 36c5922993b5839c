"""A `CcxtVenue` pointed at the local fake exchange (tests/fakes/exchange), as a test builds one.

Every URL ccxt uses is rewritten to the fake (`urls=dotted_urls(ccxt_urls(...))`) and the markets come
from a file holding `ccxt_markets(...)`, so nothing reaches a real host.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tests.fakes.exchange import FakeExchange, ccxt_markets, ccxt_urls
from tradewire.domain.clock import Clock, LiveClock
from tradewire.domain.enums import OrderType, Side, TimeInForce, VenueOrderStatus
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, StrategyId, VenueId
from tradewire.domain.reports import ExecutionReport, FillReport, OrderStatusReport
from tradewire.venues.ccxt.client import CcxtVenue
from tradewire.venues.ccxt.config import CcxtVenueConfig, Credentials, dotted_urls

EXCHANGES = ("binance", "bybit")
SYMBOL = "BTC/USDT"
BOOK = "BTCUSDT"
"""The fake's name for SYMBOL (its matching engine speaks exchange symbols)."""
ACCOUNT = AccountId("crypto-1")
WAIT_SECONDS = 5.0
FAKE_SECRET = "fake-api-secret"


def markets_file(directory: Path, exchange: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{exchange}-markets.json"
    path.write_text(json.dumps(ccxt_markets(exchange)))
    return path


def fake_config(fake: FakeExchange, exchange: str, directory: Path, **overrides: Any) -> CcxtVenueConfig:
    fields: dict[str, Any] = {
        "venue": exchange,
        "exchange": exchange,
        "account": ACCOUNT,
        "symbols": (SYMBOL,),
        "markets_file": markets_file(directory, exchange),
        "urls": dotted_urls(ccxt_urls(exchange, fake.base_url)),
        "request_timeout": 2.0,
        "reconnect_delay": 0.1,
        "reconnect_delay_max": 0.2,
        **overrides,
    }
    return CcxtVenueConfig(**fields)


def credentials(api_key: str) -> Credentials:
    return Credentials(api_key=SecretStr(api_key), secret=SecretStr(FAKE_SECRET))


def fake_venue(
    fake: FakeExchange,
    exchange: str,
    directory: Path,
    *,
    api_key: str | None = None,
    clock: Clock | None = None,
    **overrides: Any,
) -> CcxtVenue:
    config = fake_config(fake, exchange, directory, **overrides)
    return CcxtVenue(config, clock or LiveClock(), credentials(api_key or fake.api_key))


@dataclass
class Received:
    reports: list[ExecutionReport] = field(default_factory=list)
    connection: list[bool] = field(default_factory=list)

    def on_report(self, report: ExecutionReport) -> None:
        self.reports.append(report)

    def on_connection(self, venue: VenueId, connected: bool) -> None:
        self.connection.append(connected)

    def statuses(self, client_order_id: ClientOrderId) -> list[OrderStatusReport]:
        return [
            r
            for r in self.reports
            if isinstance(r, OrderStatusReport) and r.client_order_id == client_order_id
        ]

    def fills(self, client_order_id: ClientOrderId) -> list[FillReport]:
        return [r for r in self.reports if isinstance(r, FillReport) and r.client_order_id == client_order_id]

    def last_status(self, client_order_id: ClientOrderId) -> VenueOrderStatus | None:
        statuses = self.statuses(client_order_id)
        return statuses[-1].status if statuses else None


async def until(condition: Callable[[], bool], what: str = "reports") -> None:
    """Wait for what another connection (ccxt's WebSocket, the fake's server) delivers."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@asynccontextmanager
async def connected(venue: CcxtVenue) -> AsyncIterator[Received]:
    received = Received()
    await venue.connect(received.on_report, lambda quote: None, received.on_connection)
    try:
        yield received
    finally:
        await venue.close()


def subscribed(fake: FakeExchange, exchange: str, api_key: str | None = None) -> Callable[[], bool]:
    """Whether the venue's user-data stream is subscribed at the fake (orders and fills)."""
    protocol, wanted = {
        "binance": ("binance-ws-api", {"user"}),
        "bybit": ("bybit-private", {"order", "execution"}),
    }[exchange]
    account = f"{exchange}:{api_key or fake.api_key}"
    return lambda: wanted <= set().union(*(s.topics for s in fake.sessions_of(protocol, account)))


def order_spec(
    exchange: str,
    client_order_id: str,
    side: Side = Side.BUY,
    quantity: str = "0.5",
    limit_price: str | None = None,
) -> OrderSpec:
    return OrderSpec(
        client_order_id=ClientOrderId(client_order_id),
        account=ACCOUNT,
        strategy=StrategyId("trend"),
        instrument=InstrumentId(SYMBOL),
        venue=VenueId(exchange),
        side=side,
        order_type=OrderType.LIMIT if limit_price is not None else OrderType.MARKET,
        quantity=Decimal(quantity),
        time_in_force=TimeInForce.GTC,
        limit_price=Decimal(limit_price) if limit_price is not None else None,
    )


def orders_at_fake(
    fake: FakeExchange, exchange: str, client_order_id: str, api_key: str | None = None
) -> int:
    """How many orders the fake holds under this client order ID (never more than one)."""
    account = f"{exchange}:{api_key or fake.api_key}"
    return sum(1 for o in fake.engine.orders_of(account) if o.client_order_id == client_order_id)

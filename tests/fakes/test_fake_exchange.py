"""The fake exchange, driven by the real ccxt (async and pro) over HTTP and WebSocket on 127.0.0.1.

Every test runs for both protocols, so a ccxt adapter tested against the fake sees what ccxt does
with Binance's and Bybit's real shapes and errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import ccxt.pro
import pytest
from ccxt.base import errors

from tests.fakes.exchange import FakeExchange, ccxt_markets, ccxt_urls, every_url

SYMBOL = "BTC/USDT"
BOOK = "BTCUSDT"
WS_PROTOCOL = {"binance": "binance-ws-api", "bybit": "bybit-private"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange() as running:
        yield running


@pytest.fixture(params=["binance", "bybit"])
def venue(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def connect(fake: FakeExchange, venue: str, api_key: str | None = None, timeout_ms: int = 3_000) -> Any:
    exchange_class = getattr(ccxt.pro, venue)
    return exchange_class(
        {
            "apiKey": api_key or fake.api_key,
            "secret": fake.secret,
            "urls": {"api": ccxt_urls(venue, fake.base_url)},
            "markets": ccxt_markets(venue),
            "timeout": timeout_ms,
        }
    )


@pytest.fixture
async def exchange(fake: FakeExchange, venue: str) -> AsyncIterator[Any]:
    client = connect(fake, venue)
    try:
        yield client
    finally:
        await client.close()


async def fetch_by_client_id(exchange: Any, venue: str, client_order_id: str) -> Any:
    if venue == "binance":
        return await exchange.fetch_order(None, SYMBOL, {"origClientOrderId": client_order_id})
    # Bybit's order/realtime finds a recent order of any state by orderLinkId alone.
    [order] = await exchange.fetch_open_orders(SYMBOL, None, None, {"orderLinkId": client_order_id})
    return order


async def fetch_by_id(exchange: Any, venue: str, order_id: str) -> Any:
    params = {"acknowledged": True} if venue == "bybit" else {}
    return await exchange.fetch_order(order_id, SYMBOL, params)


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for state that another connection (ccxt's WebSocket, the fake's server) changes."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 (no event to wait on: the state lives in ccxt and the fake)
            await asyncio.sleep(0.01)


def subscribed(fake: FakeExchange, venue: str, topic: str = "order") -> Callable[[], bool]:
    """Whether ccxt has subscribed to `topic` (Binance's one user-data subscription covers all)."""
    wanted = "user" if venue == "binance" else topic
    account = f"{venue}:{fake.api_key}"
    return lambda: any(wanted in s.topics for s in fake.sessions_of(WS_PROTOCOL[venue], account))


async def test_every_url_ccxt_uses_points_at_the_fake(fake: FakeExchange, exchange: Any, venue: str) -> None:
    ws_base = "ws" + fake.base_url.removeprefix("http")
    urls = list(every_url(exchange.urls["api"]))
    assert len(urls) > 5
    assert all(url.startswith((fake.base_url + "/", ws_base + "/")) for url in urls), urls


async def test_limit_order_with_client_id_rests_open_and_is_found_by_it(exchange: Any, venue: str) -> None:
    placed = await exchange.create_order(SYMBOL, "limit", "buy", 0.5, 95, {"clientOrderId": "cid-rest"})

    found = await fetch_by_client_id(exchange, venue, "cid-rest")

    assert found["id"] == placed["id"]
    assert found["clientOrderId"] == "cid-rest"
    assert found["status"] == "open"
    assert (found["amount"], found["filled"], found["price"]) == (0.5, 0.0, 95.0)
    assert [o["id"] for o in await exchange.fetch_open_orders(SYMBOL)] == [placed["id"]]


async def test_partial_then_full_fill_shows_in_fetch_order_and_my_trades(
    fake: FakeExchange, exchange: Any, venue: str
) -> None:
    placed = await exchange.create_order(SYMBOL, "limit", "buy", 0.5, 95, {"clientOrderId": "cid-fill"})
    fake.max_fill_per_step(BOOK, Decimal("0.2"))

    fake.set_price(BOOK, Decimal(94), Decimal(95))
    partial = await fetch_by_id(exchange, venue, placed["id"])
    fake.fill(placed["id"], Decimal("0.3"))
    filled = await fetch_by_id(exchange, venue, placed["id"])
    trades = await exchange.fetch_my_trades(SYMBOL)

    assert (partial["status"], partial["filled"], partial["remaining"]) == ("open", 0.2, 0.3)
    assert (filled["status"], filled["filled"], filled["remaining"]) == ("closed", 0.5, 0.0)
    assert sorted((t["order"], t["amount"], t["price"]) for t in trades) == [
        (placed["id"], 0.2, 95.0),
        (placed["id"], 0.3, 95.0),
    ]
    assert fake.account(venue).balance("BTC") == Decimal(100) + Decimal("0.5")


async def test_watch_orders_and_my_trades_see_each_fill(
    fake: FakeExchange, exchange: Any, venue: str
) -> None:
    orders: list[dict[str, Any]] = []
    trades: list[dict[str, Any]] = []

    async def collect_orders() -> None:
        while not orders or orders[-1]["status"] != "closed":
            orders.extend(dict(order) for order in await exchange.watch_orders(SYMBOL))

    async def collect_trades() -> None:
        while sum(trade["amount"] for trade in trades) < 0.5:
            trades.extend(await exchange.watch_my_trades(SYMBOL))

    watching = asyncio.gather(collect_orders(), collect_trades())
    await eventually(subscribed(fake, venue, "order"))
    await eventually(subscribed(fake, venue, "execution"))
    placed = await exchange.create_order(SYMBOL, "limit", "sell", 0.5, 105, {"clientOrderId": "cid-ws"})
    await eventually(lambda: len(orders) >= 1)
    fake.fill(placed["id"], Decimal("0.2"))
    await eventually(lambda: len(trades) >= 1 and orders[-1]["filled"] == 0.2)
    fake.fill(placed["id"], Decimal("0.3"))
    async with asyncio.timeout(5):
        await watching

    assert [(o["id"], o["clientOrderId"], o["status"], o["filled"]) for o in orders] == [
        (placed["id"], "cid-ws", "open", 0.0),
        (placed["id"], "cid-ws", "open", 0.2),
        (placed["id"], "cid-ws", "closed", 0.5),
    ]
    assert [(t["order"], t["amount"], t["price"], t["side"]) for t in trades] == [
        (placed["id"], 0.2, 105.0, "sell"),
        (placed["id"], 0.3, 105.0, "sell"),
    ]


async def test_cancel_closes_the_order_and_unlocks_its_funds(
    fake: FakeExchange, exchange: Any, venue: str
) -> None:
    placed = await exchange.create_order(SYMBOL, "limit", "buy", 1, 90, {"clientOrderId": "cid-cancel"})
    assert fake.account(venue).locked["USDT"] == Decimal(90)

    await exchange.cancel_order(placed["id"], SYMBOL)

    assert (await fetch_by_id(exchange, venue, placed["id"]))["status"] == "canceled"
    assert fake.account(venue).locked["USDT"] == 0
    assert fake.account(venue).balance("USDT") == Decimal(1_000_000)
    with pytest.raises(errors.ExchangeError):
        await exchange.cancel_order(placed["id"], SYMBOL)


async def test_market_order_fills_at_the_top_of_book(fake: FakeExchange, exchange: Any, venue: str) -> None:
    fake.set_price(BOOK, Decimal(199), Decimal(201))

    placed = await exchange.create_order(SYMBOL, "market", "buy", 0.25, None, {"clientOrderId": "cid-mkt"})

    done = await fetch_by_id(exchange, venue, placed["id"])
    assert (done["status"], done["filled"], done["average"]) == ("closed", 0.25, 201.0)
    assert fake.account(venue).balance("USDT") == Decimal(1_000_000) - Decimal("50.25")


# ccxt's binance maps any 429 to DDoSProtection; bybit maps retCode 10006 to RateLimitExceeded.
RATE_LIMITED = {"binance": errors.DDoSProtection, "bybit": errors.RateLimitExceeded}


async def test_429_raises_rate_limit_exceeded_then_recovers(
    fake: FakeExchange, exchange: Any, venue: str
) -> None:
    fake.fail_next("create", status=429)

    with pytest.raises(RATE_LIMITED[venue]):
        await exchange.create_order(SYMBOL, "limit", "buy", 0.1, 90, {"clientOrderId": "cid-429"})
    placed = await exchange.create_order(SYMBOL, "limit", "buy", 0.1, 90, {"clientOrderId": "cid-429"})

    assert placed["id"]


# What ccxt makes of each venue's 5xx: a JSON internal error for 500, a gateway page otherwise.
SERVER_ERRORS = {
    ("binance", 500): errors.OperationFailed,
    ("bybit", 500): errors.ExchangeError,
    ("binance", 503): errors.ExchangeNotAvailable,
    ("bybit", 503): errors.ExchangeNotAvailable,
}


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_raise_exchange_errors(
    fake: FakeExchange, exchange: Any, venue: str, status: int
) -> None:
    raised = SERVER_ERRORS[venue, status]
    fake.fail_next("open_orders", status=status, times=2)

    for _ in range(2):
        with pytest.raises(raised):
            await exchange.fetch_open_orders(SYMBOL)
    assert await exchange.fetch_open_orders(SYMBOL) == []


async def test_hung_create_times_out_and_the_order_exists_afterwards(fake: FakeExchange, venue: str) -> None:
    client = connect(fake, venue, timeout_ms=300)
    try:
        fake.hang_next_create(30)
        with pytest.raises(errors.RequestTimeout):
            await client.create_order(SYMBOL, "limit", "buy", 0.1, 90, {"clientOrderId": "cid-hung"})

        found = await fetch_by_client_id(client, venue, "cid-hung")
    finally:
        await client.close()

    assert (found["clientOrderId"], found["status"], found["amount"]) == ("cid-hung", "open", 0.1)


async def test_order_beyond_the_balance_raises_insufficient_funds(fake: FakeExchange, exchange: Any) -> None:
    with pytest.raises(errors.InsufficientFunds):
        await exchange.create_order(SYMBOL, "limit", "sell", 101, 90, {"clientOrderId": "cid-big"})
    fake.reject_next_create()
    with pytest.raises(errors.InsufficientFunds):
        await exchange.create_order(SYMBOL, "limit", "buy", 0.1, 90, {"clientOrderId": "cid-rejected"})

    assert await exchange.fetch_open_orders(SYMBOL) == []


async def test_unknown_api_key_raises_authentication_error(fake: FakeExchange, venue: str) -> None:
    client = connect(fake, venue, api_key="nobody")
    try:
        with pytest.raises(errors.AuthenticationError):
            await client.fetch_open_orders(SYMBOL)
    finally:
        await client.close()


async def test_dropped_websocket_fails_the_watch_and_a_new_watch_reconnects(
    fake: FakeExchange, exchange: Any, venue: str
) -> None:
    watching = asyncio.ensure_future(exchange.watch_orders(SYMBOL))
    await eventually(subscribed(fake, venue))

    await fake.drop_websockets()

    with pytest.raises(errors.NetworkError):
        await watching
    watching = asyncio.ensure_future(exchange.watch_orders(SYMBOL))
    await eventually(subscribed(fake, venue))
    placed = await exchange.create_order(SYMBOL, "limit", "buy", 0.1, 90, {"clientOrderId": "cid-again"})
    assert [o["id"] for o in await watching] == [placed["id"]]

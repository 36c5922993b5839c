"""A fake crypto exchange on 127.0.0.1 that the real ccxt library can be pointed at.

One aiohttp server on an ephemeral port hosts several protocol front ends (`/binance/...` speaks
Binance spot, `/bybit/...` speaks Bybit v5) over one shared `MatchingEngine`, so tests exercise ccxt's
real request building, signing, parsing, error mapping and WebSocket handling without the internet::

    async with FakeExchange() as fake:
        exchange = ccxt.pro.binance({
            "apiKey": fake.api_key, "secret": fake.secret,
            "urls": {"api": ccxt_urls("binance", fake.base_url)},
            "markets": ccxt_markets("binance"),     # no exchangeInfo round trip
            "timeout": 2_000,
        })
        await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 99, {"clientOrderId": "c-1"})
        fake.set_price("BTCUSDT", bid=Decimal(98), ask=Decimal(99))   # the resting buy fills

`ccxt_urls(exchange_id, base_url)` rewrites *every* URL in ccxt's `urls['api']` tree (REST entries and
the `ws` subtree used by ccxt.pro) to the same path on the fake under `/<exchange_id>`, e.g.
`https://api.binance.com/api/v3` -> `http://127.0.0.1:PORT/binance/api/v3` and
`wss://ws-api.binance.com:443/ws-api/v3` -> `ws://127.0.0.1:PORT/binance/ws-api/v3`. Anything the fake
does not serve answers 404 from 127.0.0.1, never from a real host.

Test controls (all on `FakeExchange`): `set_price`, `fill`, `max_fill_per_step`, `add_account`,
`fail_next(path_or_kind, status, times)`, `hang_next_create(seconds)`, `reject_next_create(code)` and
`drop_websockets()`. Kinds for `fail_next`: create, cancel, order, open_orders, orders, trades,
balance, positions, time, listen_key, account_info, or `any`; anything else is matched as a path suffix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import urlsplit

import ccxt.pro
from aiohttp import WSMsgType, web

from tests.fakes.exchange.book import Account, Execution, FakeOrder, MatchingEngine

DEFAULT_API_KEY = "fake-api-key"
DEFAULT_SECRET = "fake-api-secret"
VENUES = ("binance", "bybit")
DEFAULT_BALANCES = {"USDT": Decimal(1_000_000), "BTC": Decimal(100), "ETH": Decimal(1_000)}
_MARKETS_FILE = Path(__file__).with_name("markets.json")

Json = dict[str, Any]


def ccxt_urls(exchange_id: str, base_url: str) -> Json:
    """The `urls['api']` tree for a ccxt (pro) exchange with every host replaced by the fake."""
    exchange_class = getattr(ccxt.pro, exchange_id)
    # describe() on a bare instance: constructing the exchange would need a running loop.
    described = exchange_class.__new__(exchange_class).describe()
    ws_base = "ws" + base_url.removeprefix("http")

    def rewrite(node: Any, under_ws: bool) -> Any:
        if isinstance(node, dict):
            return {key: rewrite(value, under_ws or key == "ws") for key, value in node.items()}
        if isinstance(node, str):
            return f"{ws_base if under_ws else base_url}/{exchange_id}{urlsplit(node).path}"
        return node

    return dict(rewrite(described["urls"]["api"], under_ws=False))


def ccxt_markets(exchange_id: str) -> Json:
    """ccxt market structures for the fake's instruments, to pass as the `markets` option.

    A subset of ccxt's static test fixtures (github.com/ccxt/ccxt `ts/src/test/static/markets/`, MIT
    licence): BTC/USDT and ETH/USDT spot, and for bybit BTC/USDT:USDT. Binance's precision is rewritten
    from `info.filters` tick and step sizes, because ccxt 4.5 reads precision as tick sizes.
    """
    markets: Json = json.loads(_MARKETS_FILE.read_text())[exchange_id]
    return markets


def every_url(node: Any) -> Iterator[str]:
    """Every URL string in a ccxt `urls` subtree, for asserting nothing points at a real host."""
    if isinstance(node, dict):
        for value in node.values():
            yield from every_url(value)
    elif isinstance(node, str):
        yield node


@dataclass
class _Failure:
    key: str
    status: int
    remaining: int


@dataclass
class Faults:
    failures: list[_Failure] = field(default_factory=list)
    hangs: list[float] = field(default_factory=list)
    rejects: list[int | None] = field(default_factory=list)

    def take_failure(self, kind: str, path: str) -> int | None:
        for failure in self.failures:
            if failure.key in ("any", kind) or path.endswith(failure.key):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self.failures.remove(failure)
                return failure.status
        return None


class WsSession:
    """One accepted WebSocket: who it belongs to, what it subscribed to, and an ordered outbox."""

    def __init__(self, protocol: str, socket: web.WebSocketResponse) -> None:
        self.protocol = protocol
        self.socket = socket
        self.account: str | None = None
        self.topics: set[str] = set()
        self._outbox: asyncio.Queue[Json] = asyncio.Queue()

    def send(self, message: Json) -> None:
        self._outbox.put_nowait(message)

    async def pump(self) -> None:
        while True:
            message = await self._outbox.get()
            if self.socket.closed:
                return
            try:
                await self.socket.send_str(json.dumps(message))
            except ConnectionError:
                return  # the peer went away mid-send; the receive loop notices and cleans up


class FrontEnd(Protocol):
    """What a protocol module gives the server: its routes, its error bodies, its event pushes."""

    prefix: str

    def routes(self) -> list[web.RouteDef]: ...

    def kind_of(self, request: web.Request) -> str: ...

    def failure_response(self, status: int) -> web.Response: ...

    def on_order(self, order: FakeOrder, execution: Execution | None) -> None: ...


class FakeExchange:
    def __init__(self) -> None:
        self.engine = MatchingEngine()
        self.faults = Faults()
        self.sessions: set[WsSession] = set()
        self.api_key = DEFAULT_API_KEY
        self.secret = DEFAULT_SECRET
        self.add_account(DEFAULT_API_KEY, DEFAULT_BALANCES)
        self.engine.add_instrument("BTCUSDT", "BTC", "USDT", Decimal(99), Decimal(101))
        self.engine.add_instrument("ETHUSDT", "ETH", "USDT", Decimal(9), Decimal(11))
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        from tests.fakes.exchange.binance import BinanceFrontEnd  # noqa: PLC0415 (they import us)
        from tests.fakes.exchange.bybit import BybitFrontEnd  # noqa: PLC0415

        self.front_ends: list[FrontEnd] = [BinanceFrontEnd(self), BybitFrontEnd(self)]
        for front_end in self.front_ends:
            self.engine.subscribe(front_end.on_order)

    # -- lifecycle -------------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._fault_middleware])
        for front_end in self.front_ends:
            app.add_routes(front_end.routes())
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stopping.set()
        await self.drop_websockets()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- controls for tests ---------------------------------------------------------------------------
    def set_price(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        self.engine.set_price(symbol, bid, ask)

    def fill(self, order_id: int | str, quantity: Decimal, price: Decimal | None = None) -> Execution:
        return self.engine.fill(int(order_id), quantity, price)

    def max_fill_per_step(self, symbol: str, quantity: Decimal | None) -> None:
        if quantity is None:
            self.engine.max_fill_per_step.pop(symbol, None)
        else:
            self.engine.max_fill_per_step[symbol] = quantity

    def add_account(
        self, api_key: str, balances: dict[str, Decimal], venues: tuple[str, ...] = VENUES
    ) -> None:
        """Open an account per venue for `api_key`; each venue's balances and orders are its own."""
        for venue in venues:
            self.engine.add_account(f"{venue}:{api_key}", balances)

    def account(self, venue: str, api_key: str = DEFAULT_API_KEY) -> Account:
        return self.engine.accounts[f"{venue}:{api_key}"]

    def account_id(self, venue: str, api_key: str | None) -> str | None:
        """The engine's account for a key presented to `venue`, or None when the key is unknown."""
        account = f"{venue}:{api_key}"
        return account if api_key and account in self.engine.accounts else None

    def fail_next(self, path_or_kind: str, status: int = 429, times: int = 1) -> None:
        """Answer the next `times` matching requests with `status` and the venue's real error body."""
        self.faults.failures.append(_Failure(path_or_kind, status, times))

    def hang_next_create(self, seconds: float) -> None:
        """Accept the next order but hold the answer back: the client times out, the order exists."""
        self.faults.hangs.append(seconds)

    def reject_next_create(self, code: int | None = None) -> None:
        """Refuse the next order as insufficient balance (or with `code`), without placing it."""
        self.faults.rejects.append(code)

    async def drop_websockets(self) -> None:
        """Close every WebSocket from the server side, as a venue restart or network cut would."""
        for session in list(self.sessions):
            with contextlib.suppress(ConnectionError):
                await session.socket.close(code=1001, message=b"fake exchange dropped the connection")

    # -- helpers for front ends -----------------------------------------------------------------------
    def take_hang(self) -> float | None:
        return self.faults.hangs.pop(0) if self.faults.hangs else None

    def take_reject(self) -> tuple[bool, int | None]:
        return (True, self.faults.rejects.pop(0)) if self.faults.rejects else (False, None)

    async def hold(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def sessions_of(self, protocol: str, account: str) -> list[WsSession]:
        return [s for s in self.sessions if s.protocol == protocol and s.account == account]

    async def serve_websocket(
        self,
        request: web.Request,
        protocol: str,
        on_message: Callable[[WsSession, Json], Awaitable[None]],
        account: str | None = None,
    ) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        session = WsSession(protocol, socket)
        session.account = account
        self.sessions.add(session)
        pump = asyncio.create_task(session.pump(), name=f"fake-exchange-ws-{protocol}")
        try:
            async for frame in socket:
                if frame.type is WSMsgType.TEXT:
                    await on_message(session, json.loads(frame.data))
        finally:
            self.sessions.discard(session)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        return socket

    @web.middleware
    async def _fault_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        for front_end in self.front_ends:
            if request.path.startswith(front_end.prefix + "/"):
                status = self.faults.take_failure(front_end.kind_of(request), request.path)
                if status is not None:
                    return front_end.failure_response(status)
        return await handler(request)

"""Binance spot, as ccxt 4.5.90 speaks it, served from `/binance` on the fake exchange.

REST (`/binance/api/v3/...`): time, ping, POST/GET/DELETE order (`newClientOrderId`,
`origClientOrderId`), openOrders, allOrders, myTrades, account, and the listenKey endpoints
(`userDataStream`). Signed requests are accepted without checking the HMAC, but the `X-MBX-APIKEY`
header must name a known account, otherwise HTTP 401 with `{"code": -2015, ...}` as Binance answers.

User data: ccxt 4.5.90 watches spot orders over the WebSocket API (`/binance/ws-api/v3`, method
`userDataStream.subscribe.signature`), and events arrive as `{"subscriptionId": n, "event": {...}}`.
The older listenKey stream (`/binance/ws/<listenKey>`) sends the same events unwrapped.

As on Binance, a cancel's answer and its `executionReport` carry the cancel request's own id in
`clientOrderId`/`c` and the original client order id in `origClientOrderId`/`C`.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.exchange.book import (
    Execution,
    FakeOrder,
    InsufficientBalance,
    OrderKind,
    OrderState,
    Side,
    UnknownOrder,
    now_ms,
)

if TYPE_CHECKING:
    from tests.fakes.exchange.server import FakeExchange, Json, WsSession

_STATUS = {
    OrderState.NEW: "NEW",
    OrderState.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderState.FILLED: "FILLED",
    OrderState.CANCELED: "CANCELED",
}
_KINDS = {
    ("POST", "order"): "create",
    ("DELETE", "order"): "cancel",
    ("GET", "order"): "order",
    ("GET", "openOrders"): "open_orders",
    ("GET", "allOrders"): "orders",
    ("GET", "myTrades"): "trades",
    ("GET", "account"): "balance",
    ("GET", "time"): "time",
}


def _number(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):.8f}"


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "msg": message}, status=status)


class BinanceFrontEnd:
    prefix = "/binance"

    def __init__(self, fake: FakeExchange) -> None:
        self.fake = fake
        self.listen_keys: dict[str, str] = {}
        self.cancel_ids: dict[int, str] = {}

    def routes(self) -> list[web.RouteDef]:
        api = f"{self.prefix}/api/v3"
        return [
            web.get(f"{api}/time", self.time),
            web.get(f"{api}/ping", self.ping),
            web.post(f"{api}/order", self.create_order),
            web.get(f"{api}/order", self.query_order),
            web.delete(f"{api}/order", self.cancel_order),
            web.get(f"{api}/openOrders", self.open_orders),
            web.get(f"{api}/allOrders", self.all_orders),
            web.get(f"{api}/myTrades", self.my_trades),
            web.get(f"{api}/account", self.account),
            web.post(f"{api}/userDataStream", self.new_listen_key),
            web.put(f"{api}/userDataStream", self.keep_listen_key),
            web.delete(f"{api}/userDataStream", self.keep_listen_key),
            web.get(f"{self.prefix}/ws-api/v3", self.websocket_api),
            web.get(f"{self.prefix}/ws/{{listen_key}}", self.listen_key_stream),
        ]

    def kind_of(self, request: web.Request) -> str:
        name = request.path.rsplit("/", 1)[-1]
        if name == "userDataStream":
            return "listen_key"
        return _KINDS.get((request.method, name), "other")

    def failure_response(self, status: int) -> web.Response:
        if status in (418, 429):
            response = _error(
                status,
                -1003,
                "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. "
                "Please use the websocket for live updates to avoid polling the API.",
            )
            response.headers["Retry-After"] = "1"
            return response
        if status == 500:
            return _error(500, -1001, "Internal error; unable to process your request. Please try again.")
        # Gateways in front of the venue answer other 5xx with a plain page, not JSON.
        return web.Response(status=status, text=f"{status} Service Unavailable", content_type="text/html")

    # -- REST -----------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, str]:
        params = dict(request.query)
        if request.can_read_body:
            params.update({key: str(value) for key, value in (await request.post()).items()})
        return params

    def _account(self, request: web.Request) -> str | None:
        return self.fake.account_id("binance", request.headers.get("X-MBX-APIKEY"))

    @staticmethod
    def _unauthorized() -> web.Response:
        return _error(401, -2015, "Invalid API-key, IP, or permissions for action.")

    async def time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": now_ms()})

    async def ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def create_order(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return self._unauthorized()
        params = await self._params(request)
        rejected, code = self.fake.take_reject()
        if rejected:
            return _error(400, code or -2010, "Account has insufficient balance for requested action.")
        symbol = params.get("symbol", "")
        if symbol not in self.fake.engine.instruments:
            return _error(400, -1121, "Invalid symbol.")
        client_order_id = params.get("newClientOrderId") or f"fake-{secrets.token_hex(8)}"
        if any(
            o.is_open and o.client_order_id == client_order_id for o in self.fake.engine.orders_of(account)
        ):
            return _error(400, -2010, "Duplicate order sent.")
        kind = OrderKind(params.get("type", "LIMIT").lower())
        try:
            order = self.fake.engine.place(
                account=account,
                symbol=symbol,
                side=Side(params.get("side", "").lower()),
                kind=kind,
                quantity=Decimal(params["quantity"]),
                price=Decimal(params["price"]) if kind is OrderKind.LIMIT else None,
                client_order_id=client_order_id,
                time_in_force=params.get("timeInForce", "GTC"),
            )
        except InsufficientBalance:
            return _error(400, -2010, "Account has insufficient balance for requested action.")
        hang = self.fake.take_hang()
        if hang is not None:
            await self.fake.hold(hang)
        body = self.order_json(order)
        body["transactTime"] = order.created_ms
        body["fills"] = [
            {
                "price": _number(e.price),
                "qty": _number(e.quantity),
                "commission": _number(e.fee),
                "commissionAsset": e.fee_asset,
                "tradeId": e.trade_id,
            }
            for e in self.fake.engine.executions
            if e.order_id == order.order_id
        ]
        return web.json_response(body)

    def _lookup(self, account: str, params: dict[str, str]) -> FakeOrder:
        order_id = params.get("orderId")
        if order_id and not str(order_id).isdigit():
            raise UnknownOrder(f"order id {order_id!r} is not a number")
        return self.fake.engine.find(
            account, int(order_id) if order_id else None, params.get("origClientOrderId")
        )

    async def query_order(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return self._unauthorized()
        try:
            order = self._lookup(account, await self._params(request))
        except UnknownOrder:
            return _error(400, -2013, "Order does not exist.")
        return web.json_response(self.order_json(order))

    async def cancel_order(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return self._unauthorized()
        params = await self._params(request)
        try:
            order = self._lookup(account, params)
            self.cancel_ids[order.order_id] = params.get("newClientOrderId") or secrets.token_hex(11)
            self.fake.engine.cancel(account, order.order_id)
        except UnknownOrder:
            return _error(400, -2011, "Unknown order sent.")
        body = self.order_json(order)
        body["origClientOrderId"] = order.client_order_id
        body["clientOrderId"] = self.cancel_ids[order.order_id]
        body["transactTime"] = order.updated_ms
        return web.json_response(body)

    async def open_orders(self, request: web.Request) -> web.Response:
        return await self._orders(request, open_only=True)

    async def all_orders(self, request: web.Request) -> web.Response:
        return await self._orders(request, open_only=False)

    async def _orders(self, request: web.Request, open_only: bool) -> web.Response:
        account = self._account(request)
        if account is None:
            return self._unauthorized()
        params = await self._params(request)
        orders = self.fake.engine.orders_of(account, params.get("symbol"), "spot")
        return web.json_response([self.order_json(o) for o in orders if o.is_open or not open_only])

    async def my_trades(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return self._unauthorized()
        params = await self._params(request)
        executions = self.fake.engine.executions_of(account, params.get("symbol"), "spot")
        if "orderId" in params:
            executions = [e for e in executions if e.order_id == int(params["orderId"])]
        return web.json_response([self.trade_json(e) for e in executions])

    async def account(self, request: web.Request) -> web.Response:
        account_key = self._account(request)
        if account_key is None:
            return self._unauthorized()
        wallet = self.fake.engine.accounts[account_key]
        assets = sorted(set(wallet.free) | set(wallet.locked))
        return web.json_response(
            {
                "makerCommission": 0,
                "takerCommission": 0,
                "canTrade": True,
                "canWithdraw": False,
                "canDeposit": False,
                "updateTime": now_ms(),
                "accountType": "SPOT",
                "balances": [
                    {"asset": a, "free": _number(wallet.free.get(a)), "locked": _number(wallet.locked.get(a))}
                    for a in assets
                ],
                "permissions": ["SPOT"],
            }
        )

    async def new_listen_key(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return self._unauthorized()
        listen_key = secrets.token_urlsafe(32)
        self.listen_keys[listen_key] = account
        return web.json_response({"listenKey": listen_key})

    async def keep_listen_key(self, request: web.Request) -> web.Response:
        if self._account(request) is None:
            return self._unauthorized()
        return web.json_response({})

    # -- WebSocket ------------------------------------------------------------------------------------
    async def websocket_api(self, request: web.Request) -> web.StreamResponse:
        return await self.fake.serve_websocket(request, "binance-ws-api", self._on_ws_api_message)

    async def _on_ws_api_message(self, session: WsSession, message: Json) -> None:
        request_id = message.get("id")
        method = message.get("method")
        params: dict[str, Any] = message.get("params") or {}
        if method not in ("userDataStream.subscribe.signature", "userDataStream.subscribe"):
            session.send({"id": request_id, "status": 400, "error": {"code": -1102, "msg": f"{method}?"}})
            return
        account = self.fake.account_id("binance", params.get("apiKey"))
        if account is None:
            error = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
            session.send({"id": request_id, "status": 401, "error": error})
            return
        session.account = account
        session.topics.add("user")
        session.send({"id": request_id, "status": 200, "result": {"subscriptionId": 0}})

    async def listen_key_stream(self, request: web.Request) -> web.StreamResponse:
        account = self.listen_keys.get(request.match_info["listen_key"])
        if account is None:
            raise web.HTTPBadRequest(
                text=json.dumps({"code": -1125, "msg": "This listenKey does not exist."})
            )

        async def ignore(session: WsSession, message: Json) -> None:
            return None

        return await self.fake.serve_websocket(request, "binance-listen-key", ignore, account=account)

    def on_order(self, order: FakeOrder, execution: Execution | None) -> None:
        if order.category != "spot":
            return
        report = self.execution_report(order, execution)
        for session in self.fake.sessions_of("binance-ws-api", order.account):
            if "user" in session.topics:
                session.send({"subscriptionId": 0, "event": report})
        for session in self.fake.sessions_of("binance-listen-key", order.account):
            session.send(report)

    # -- shapes ---------------------------------------------------------------------------------------
    def order_json(self, order: FakeOrder) -> Json:
        return {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "price": _number(order.price),
            "origQty": _number(order.quantity),
            "executedQty": _number(order.filled),
            "cummulativeQuoteQty": _number(order.filled_cost),
            "status": _STATUS[order.state],
            "timeInForce": order.time_in_force,
            "type": order.kind.value.upper(),
            "side": order.side.value.upper(),
            "stopPrice": _number(None),
            "icebergQty": _number(None),
            "time": order.created_ms,
            "updateTime": order.updated_ms,
            "isWorking": True,
            "workingTime": order.created_ms,
            "origQuoteOrderQty": _number(None),
            "selfTradePreventionMode": "NONE",
        }

    @staticmethod
    def trade_json(execution: Execution) -> Json:
        return {
            "symbol": execution.symbol,
            "id": execution.trade_id,
            "orderId": execution.order_id,
            "orderListId": -1,
            "price": _number(execution.price),
            "qty": _number(execution.quantity),
            "quoteQty": _number(execution.price * execution.quantity),
            "commission": _number(execution.fee),
            "commissionAsset": execution.fee_asset,
            "time": execution.time_ms,
            "isBuyer": execution.side is Side.BUY,
            "isMaker": execution.is_maker,
            "isBestMatch": True,
        }

    def execution_report(self, order: FakeOrder, execution: Execution | None) -> Json:
        canceled = order.state is OrderState.CANCELED
        execution_type = "CANCELED" if canceled else "NEW"
        if execution is not None:
            execution_type = "TRADE"
        return {
            "e": "executionReport",
            "E": now_ms(),
            "s": order.symbol,
            "c": self.cancel_ids.get(order.order_id, order.client_order_id)
            if canceled
            else order.client_order_id,
            "S": order.side.value.upper(),
            "o": order.kind.value.upper(),
            "f": order.time_in_force,
            "q": _number(order.quantity),
            "p": _number(order.price),
            "P": _number(None),
            "F": _number(None),
            "g": -1,
            "C": order.client_order_id if canceled else "",
            "x": execution_type,
            "X": _STATUS[order.state],
            "r": "NONE",
            "i": order.order_id,
            "l": _number(execution.quantity if execution else None),
            "z": _number(order.filled),
            "L": _number(execution.price if execution else None),
            "n": _number(execution.fee if execution else None),
            "N": execution.fee_asset if execution else None,
            "T": execution.time_ms if execution else order.updated_ms,
            "t": execution.trade_id if execution else -1,
            "I": order.order_id,
            "w": order.is_open,
            "m": execution.is_maker if execution else False,
            "M": False,
            "O": order.created_ms,
            "Z": _number(order.filled_cost),
            "Y": _number(execution.price * execution.quantity if execution else None),
            "Q": _number(None),
        }

"""Bybit v5 (unified trading account), as ccxt 4.5.90 speaks it, served from `/bybit`.

REST: /v5/market/time, /v5/user/query-api and /v5/account/info (ccxt asks whether the account is
unified before trading; the fake says UTA), /v5/order/create, /v5/order/cancel, /v5/order/realtime,
/v5/order/history, /v5/execution/list, /v5/position/list, /v5/position/set-leverage,
/v5/account/wallet-balance. Categories
`spot` and `linear` (positions move with linear fills). The signature is not checked, but
`X-BAPI-API-KEY` must name a known account, otherwise HTTP 401 with retCode 10003.

Private WebSocket `/bybit/v5/private`: `op: auth` (key checked, signature not), `op: subscribe` to
`order` and `execution`, `op: ping`. Events are `{"topic": ..., "data": [...]}` with Bybit's fields.

As on Bybit, a spot market buy's `qty` is in the quote coin unless `marketUnit` is `baseCoin`, and a
spot order cancelled after a partial fill ends `PartiallyFilledCanceled` (ccxt reports it closed).

Leverage is kept per account and linear symbol (`DEFAULT_LEVERAGE` until set). As on Bybit, setting
the leverage it already has answers retCode 110043 "Set leverage not modified", and a leverage above
the symbol's risk limit (`max_leverage`, a test control) answers 110013. Tests reach this front end
with `bybit_of(fake)` and read the state with `leverage_of`.
"""

from __future__ import annotations

import json
import secrets
from decimal import ROUND_DOWN, Decimal
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
    OrderState.NEW: "New",
    OrderState.PARTIALLY_FILLED: "PartiallyFilled",
    OrderState.FILLED: "Filled",
    OrderState.CANCELED: "Cancelled",
}
_KINDS = {
    "order/create": "create",
    "order/cancel": "cancel",
    "order/realtime": "order",
    "order/history": "orders",
    "execution/list": "trades",
    "position/list": "positions",
    "position/set-leverage": "leverage",
    "account/wallet-balance": "balance",
    "market/time": "time",
    "user/query-api": "account_info",
    "account/info": "account_info",
}
_BASE_UNIT = Decimal("0.00000001")
DEFAULT_LEVERAGE = Decimal(10)


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _reply(result: Json, code: int = 0, message: str = "OK", status: int = 200) -> web.Response:
    body = {"retCode": code, "retMsg": message, "result": result, "retExtInfo": {}, "time": now_ms()}
    return web.json_response(body, status=status)


class BybitFrontEnd:
    prefix = "/bybit"

    def __init__(self, fake: FakeExchange) -> None:
        self.fake = fake
        self.quote_quantities: dict[int, Decimal] = {}
        self.leverage: dict[tuple[str, str], Decimal] = {}
        """(account, exchange symbol) -> the linear position's leverage, once set."""
        self.max_leverage: dict[str, Decimal] = {}
        """Exchange symbol -> the highest leverage the risk limit allows (default: no limit)."""
        self.leverage_requests: list[Json] = []
        """Every set-leverage request's parameters, in order (answered or not)."""

    def leverage_of(self, symbol: str, api_key: str | None = None) -> Decimal:
        """The leverage of `symbol` (exchange name, e.g. "BTCUSDT") for an account (default: the fake's)."""
        return self.leverage.get((f"bybit:{api_key or self.fake.api_key}", symbol), DEFAULT_LEVERAGE)

    def routes(self) -> list[web.RouteDef]:
        v5 = f"{self.prefix}/v5"
        return [
            web.get(f"{v5}/market/time", self.time),
            web.get(f"{v5}/user/query-api", self.query_api),
            web.get(f"{v5}/account/info", self.account_info),
            web.post(f"{v5}/order/create", self.create_order),
            web.post(f"{v5}/order/cancel", self.cancel_order),
            web.get(f"{v5}/order/realtime", self.realtime_orders),
            web.get(f"{v5}/order/history", self.order_history),
            web.get(f"{v5}/execution/list", self.executions),
            web.get(f"{v5}/position/list", self.positions),
            web.post(f"{v5}/position/set-leverage", self.set_leverage),
            web.get(f"{v5}/account/wallet-balance", self.wallet_balance),
            web.get(f"{v5}/private", self.private_stream),
        ]

    def kind_of(self, request: web.Request) -> str:
        kind = _KINDS.get(request.path.removeprefix(f"{self.prefix}/v5/"), "other")
        if kind == "order" and not ("orderId" in request.query or "orderLinkId" in request.query):
            return "open_orders"
        return kind

    def failure_response(self, status: int) -> web.Response:
        if status in (403, 429):
            return _reply({}, 10006, "Too many visits!", status)
        if status == 500:
            return _reply({}, 10016, "Internal server error.", status)
        return web.Response(status=status, text=f"{status} Service Unavailable", content_type="text/html")

    # -- REST -----------------------------------------------------------------------------------------
    def _account(self, request: web.Request) -> str | None:
        return self.fake.account_id("bybit", request.headers.get("X-BAPI-API-KEY"))

    @staticmethod
    def _unauthorized() -> web.Response:
        return _reply({}, 10003, "API key is invalid.", 401)

    async def _params(self, request: web.Request) -> tuple[str | None, dict[str, Any]]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            params.update(json.loads(await request.text() or "{}"))
        return self._account(request), params

    async def time(self, request: web.Request) -> web.Response:
        stamp = now_ms()
        return _reply({"timeSecond": str(stamp // 1000), "timeNano": str(stamp * 1_000_000)})

    async def query_api(self, request: web.Request) -> web.Response:
        if self._account(request) is None:
            return self._unauthorized()
        return _reply(
            {"id": "1", "readOnly": 0, "unified": 0, "uta": 1, "permissions": {"Spot": ["SpotTrade"]}}
        )

    async def account_info(self, request: web.Request) -> web.Response:
        if self._account(request) is None:
            return self._unauthorized()
        return _reply({"unifiedMarginStatus": 6, "marginMode": "REGULAR_MARGIN", "isMasterTrader": False})

    async def create_order(self, request: web.Request) -> web.Response:
        account, params = await self._params(request)
        if account is None:
            return self._unauthorized()
        rejected, code = self.fake.take_reject()
        if rejected:
            return _reply({}, code or 110007, "ab not enough for new order")
        symbol = str(params.get("symbol", ""))
        if symbol not in self.fake.engine.instruments:
            return _reply({}, 10001, "params error: symbol invalid")
        category = str(params.get("category", "spot"))
        link_id = str(params.get("orderLinkId") or "")
        if link_id and any(o.client_order_id == link_id for o in self.fake.engine.orders_of(account)):
            return _reply({}, 110072, "OrderLinkedID is duplicate")
        side = Side(str(params.get("side", "")).lower())
        kind = OrderKind(str(params.get("orderType", "Limit")).lower())
        quantity = Decimal(str(params["qty"]))
        quote_quantity = None
        unit = params.get("marketUnit") or ("quoteCoin" if side is Side.BUY else "baseCoin")
        if category == "spot" and kind is OrderKind.MARKET and unit == "quoteCoin":
            quote_quantity = quantity
            ask = self.fake.engine.top(symbol)[1]
            quantity = (quantity / ask).quantize(_BASE_UNIT, rounding=ROUND_DOWN)
        try:
            order = self.fake.engine.place(
                account=account,
                symbol=symbol,
                side=side,
                kind=kind,
                quantity=quantity,
                price=Decimal(str(params["price"])) if kind is OrderKind.LIMIT else None,
                client_order_id=link_id,
                category=category,
                time_in_force=str(params.get("timeInForce") or ("GTC" if kind is OrderKind.LIMIT else "IOC")),
            )
        except InsufficientBalance:
            return _reply({}, 170131 if category == "spot" else 110007, "Insufficient balance.")
        if quote_quantity is not None:
            self.quote_quantities[order.order_id] = quote_quantity
        hang = self.fake.take_hang()
        if hang is not None:
            await self.fake.hold(hang)
        return _reply({"orderId": str(order.order_id), "orderLinkId": order.client_order_id})

    def _lookup(self, account: str, params: dict[str, Any]) -> FakeOrder:
        order_id = params.get("orderId")
        if order_id and not str(order_id).isdigit():
            raise UnknownOrder(f"order id {order_id!r} is not a number")
        return self.fake.engine.find(
            account, int(order_id) if order_id else None, params.get("orderLinkId") or None
        )

    async def cancel_order(self, request: web.Request) -> web.Response:
        account, params = await self._params(request)
        if account is None:
            return self._unauthorized()
        try:
            order = self.fake.engine.cancel(account, self._lookup(account, params).order_id)
        except UnknownOrder:
            return _reply({}, 110001, "Order does not exist.")
        return _reply({"orderId": str(order.order_id), "orderLinkId": order.client_order_id})

    async def realtime_orders(self, request: web.Request) -> web.Response:
        """Open orders; with an id, that order whatever its state (Bybit keeps recent ones here)."""
        account, params = await self._params(request)
        if account is None:
            return self._unauthorized()
        if params.get("orderId") or params.get("orderLinkId"):
            try:
                orders = [self._lookup(account, params)]
            except UnknownOrder:
                orders = []
        else:
            orders = [o for o in self._orders(account, params) if o.is_open]
        return self._order_list(params, orders)

    async def order_history(self, request: web.Request) -> web.Response:
        account, params = await self._params(request)
        if account is None:
            return self._unauthorized()
        orders = [o for o in self._orders(account, params) if not o.is_open]
        for key, value in (("orderId", "order_id"), ("orderLinkId", "client_order_id")):
            if params.get(key):
                orders = [o for o in orders if str(getattr(o, value)) == str(params[key])]
        if params.get("orderStatus"):
            orders = [o for o in orders if self.status_of(o) == params["orderStatus"]]
        return self._order_list(params, orders)

    def _orders(self, account: str, params: dict[str, Any]) -> list[FakeOrder]:
        return self.fake.engine.orders_of(account, params.get("symbol"), params.get("category", "spot"))

    def _order_list(self, params: dict[str, Any], orders: list[FakeOrder]) -> web.Response:
        newest_first = sorted(orders, key=lambda o: o.order_id, reverse=True)
        return _reply(
            {
                "category": params.get("category", "spot"),
                "nextPageCursor": "",
                "list": [self.order_json(o) for o in newest_first],
            }
        )

    async def executions(self, request: web.Request) -> web.Response:
        account, params = await self._params(request)
        if account is None:
            return self._unauthorized()
        category = params.get("category", "spot")
        found = self.fake.engine.executions_of(account, params.get("symbol"), category)
        if params.get("orderId"):
            found = [e for e in found if str(e.order_id) == str(params["orderId"])]
        newest_first = sorted(found, key=lambda e: e.trade_id, reverse=True)
        return _reply(
            {
                "category": category,
                "nextPageCursor": "",
                "list": [self.execution_json(e) for e in newest_first],
            }
        )

    async def positions(self, request: web.Request) -> web.Response:
        account, params = await self._params(request)
        if account is None:
            return self._unauthorized()
        wallet = self.fake.engine.accounts[account]
        rows = []
        for symbol, size in sorted(wallet.positions.items()):
            if params.get("symbol") not in (None, symbol) or not size:
                continue
            average = wallet.position_cost[symbol] / size
            bid, ask = self.fake.engine.top(symbol)
            rows.append(
                {
                    "symbol": symbol,
                    "side": "Buy" if size > 0 else "Sell",
                    "size": _text(abs(size)),
                    "avgPrice": _text(average),
                    "positionValue": _text(abs(wallet.position_cost[symbol])),
                    "markPrice": _text((bid + ask) / 2),
                    "leverage": _text(self.leverage_of(symbol, account.removeprefix("bybit:"))),
                    "positionIdx": 0,
                    "tradeMode": 0,
                    "positionStatus": "Normal",
                    "unrealisedPnl": "0",
                    "cumRealisedPnl": "0",
                    "createdTime": str(now_ms()),
                    "updatedTime": str(now_ms()),
                    "liqPrice": "",
                    "takeProfit": "",
                    "stopLoss": "",
                    "tpslMode": "Full",
                }
            )
        return _reply({"category": params.get("category", "linear"), "nextPageCursor": "", "list": rows})

    async def set_leverage(self, request: web.Request) -> web.Response:
        account, params = await self._params(request)
        self.leverage_requests.append(params)
        if account is None:
            return self._unauthorized()
        symbol = str(params.get("symbol", ""))
        if params.get("category") != "linear" or symbol not in self.fake.engine.instruments:
            return _reply({}, 10001, "params error: symbol invalid")
        try:
            buy, sell = Decimal(str(params["buyLeverage"])), Decimal(str(params["sellLeverage"]))
        except (KeyError, ArithmeticError):
            return _reply({}, 10001, "params error: buyLeverage and sellLeverage are required")
        if buy != sell or buy <= 0:
            # One-way mode (positionIdx 0): both sides must carry the same leverage.
            return _reply({}, 10001, "params error: buy leverage must equal sell leverage")
        limit = self.max_leverage.get(symbol)
        if limit is not None and buy > limit:
            return _reply({}, 110013, "Due to risk limit, cannot set leverage")
        if self.leverage_of(symbol, account.removeprefix("bybit:")) == buy:
            return _reply({}, 110043, "leverage not modified")
        self.leverage[(account, symbol)] = buy
        return _reply({})

    async def wallet_balance(self, request: web.Request) -> web.Response:
        account, _ = await self._params(request)
        if account is None:
            return self._unauthorized()
        wallet = self.fake.engine.accounts[account]
        coins = [
            {
                "coin": asset,
                "walletBalance": _text(
                    wallet.free.get(asset, Decimal(0)) + wallet.locked.get(asset, Decimal(0))
                ),
                "locked": _text(wallet.locked.get(asset, Decimal(0))),
                "equity": _text(wallet.free.get(asset, Decimal(0)) + wallet.locked.get(asset, Decimal(0))),
            }
            for asset in sorted(set(wallet.free) | set(wallet.locked))
        ]
        return _reply({"list": [{"accountType": "UNIFIED", "coin": coins}]})

    # -- WebSocket ------------------------------------------------------------------------------------
    async def private_stream(self, request: web.Request) -> web.StreamResponse:
        return await self.fake.serve_websocket(request, "bybit-private", self._on_private_message)

    async def _on_private_message(self, session: WsSession, message: Json) -> None:
        op = message.get("op")
        base = {"ret_msg": "", "op": op, "conn_id": id(session), "req_id": message.get("req_id")}
        args = list(message.get("args") or [])
        if op == "ping":
            session.send({**base, "success": True, "ret_msg": "pong"})
        elif op == "auth":
            account = self.fake.account_id("bybit", str(args[0]) if args else None)
            if account is not None:
                session.account = account
                session.send({**base, "success": True})
            else:
                # As Bybit answers a refused key: the failed request is echoed back.
                request = {"op": "auth", "args": args}
                session.send({**base, "success": False, "ret_msg": "error:USVC1111", "request": request})
        elif op == "subscribe":
            if session.account is None:
                session.send({**base, "success": False, "ret_msg": "Request not authorized"})
                return
            session.topics.update(str(topic) for topic in args)
            session.send({**base, "success": True})
        elif op == "unsubscribe":
            session.topics.difference_update(str(topic) for topic in args)
            session.send({**base, "success": True})

    def on_order(self, order: FakeOrder, execution: Execution | None) -> None:
        for session in self.fake.sessions_of("bybit-private", order.account):
            stamp = now_ms()
            if "order" in session.topics:
                data = {**self.order_json(order), "category": order.category}
                session.send(
                    {"id": secrets.token_hex(8), "topic": "order", "creationTime": stamp, "data": [data]}
                )
            if execution is not None and "execution" in session.topics:
                data = {**self.execution_json(execution), "category": execution.category}
                session.send(
                    {"id": secrets.token_hex(8), "topic": "execution", "creationTime": stamp, "data": [data]}
                )

    # -- shapes ---------------------------------------------------------------------------------------
    def status_of(self, order: FakeOrder) -> str:
        if order.state is OrderState.CANCELED and order.filled and order.category == "spot":
            return "PartiallyFilledCanceled"
        return _STATUS[order.state]

    def order_json(self, order: FakeOrder) -> Json:
        quote_quantity = self.quote_quantities.get(order.order_id)
        leaves = order.remaining if order.is_open else Decimal(0)
        body: Json = {
            "symbol": order.symbol,
            "orderType": order.kind.value.capitalize(),
            "orderLinkId": order.client_order_id,
            "orderId": str(order.order_id),
            "cancelType": "CancelByUser" if order.state is OrderState.CANCELED else "UNKNOWN",
            "avgPrice": _text(order.average_price) if order.filled else "",
            "stopOrderType": "",
            "lastPriceOnCreated": "",
            "orderStatus": self.status_of(order),
            "takeProfit": "",
            "cumExecValue": _text(order.filled_cost),
            "smpType": "None",
            "triggerDirection": 0,
            "blockTradeId": "",
            "isLeverage": "0" if order.category == "spot" else "",
            "rejectReason": "EC_NoError",
            "price": _text(order.price) if order.price is not None else "0",
            "orderIv": "",
            "createdTime": str(order.created_ms),
            "tpTriggerBy": "",
            "positionIdx": 0,
            "timeInForce": order.time_in_force,
            "leavesValue": _text(leaves * (order.price or Decimal(0))),
            "updatedTime": str(order.updated_ms),
            "side": order.side.value.capitalize(),
            "smpGroup": 0,
            "triggerPrice": "",
            "tpLimitPrice": "0",
            "cumExecFee": "0",
            "cumFeeDetail": {},
            "slTriggerBy": "",
            "leavesQty": _text(leaves),
            "closeOnTrigger": False,
            "placeType": "",
            "cumExecQty": _text(order.filled),
            "reduceOnly": False,
            "qty": _text(quote_quantity if quote_quantity is not None else order.quantity),
            "stopLoss": "",
            "marketUnit": "quoteCoin" if quote_quantity is not None else "",
            "smpOrderId": "",
            "triggerBy": "",
        }
        if order.category != "spot":
            # ccxt tells contract orders from spot ones in WS pushes by this key.
            body["tpslMode"] = ""
            body["createType"] = "CreateByUser"
        return body

    def execution_json(self, execution: Execution) -> Json:
        order = self.fake.engine.orders[execution.order_id]
        return {
            "symbol": execution.symbol,
            "orderType": order.kind.value.capitalize(),
            "underlyingPrice": "",
            "orderLinkId": order.client_order_id,
            "orderId": str(execution.order_id),
            "stopOrderType": "",
            "execTime": str(execution.time_ms),
            "feeRate": "0",
            "tradeIv": "",
            "blockTradeId": "",
            "markPrice": "",
            "execPrice": _text(execution.price),
            "markIv": "",
            "orderQty": _text(order.quantity),
            "orderPrice": _text(order.price) if order.price is not None else "0",
            "execValue": _text(execution.price * execution.quantity),
            "closedSize": "",
            "execType": "Trade",
            "seq": execution.trade_id,
            "side": execution.side.value.capitalize(),
            "indexPrice": "",
            "leavesQty": _text(order.remaining),
            "isMaker": execution.is_maker,
            "execFee": "0",
            "feeCurrency": execution.fee_asset,
            "execId": str(execution.trade_id),
            "execQty": _text(execution.quantity),
        }


def bybit_of(fake: FakeExchange) -> BybitFrontEnd:
    """The fake's Bybit front end, for its test controls and state (leverage)."""
    return next(f for f in fake.front_ends if isinstance(f, BybitFrontEnd))

"""`CcxtVenue`: one exchange account behind `VenueClient`, through ccxt's async REST and WebSocket API.

Requests go out over REST and return once the exchange answered; what it answered is delivered as
reports on the next loop turn (never from inside the call). Order and fill updates arrive from the
user-data WebSocket (`watch_orders`, `watch_my_trades`) in supervised tasks that reconnect with
backoff; the engine reconciles through the query methods after every reconnect. A create whose
outcome is unknown (timeout, dropped connection) raises `TimeoutError`/`ConnectionError` and is never
resent: the engine asks `order_status`, which finds the order by our client order ID.
"""

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, NoReturn

import msgspec
from ccxt.base import errors as ccxt_errors

from tradewire.domain.clock import Clock
from tradewire.domain.enums import AssetClass, OrderType, VenueOrderStatus
from tradewire.domain.errors import (
    VenueAuthFailed,
    VenueUnavailable,
)
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.reports import (
    CancelRejectReport,
    ExecutionReport,
    FillReport,
    OrderStatusReport,
    PositionReport,
)
from tradewire.domain.values import ZERO
from tradewire.venues.ccxt import mapping
from tradewire.venues.ccxt.config import CcxtVenueConfig, Credentials
from tradewire.venues.ccxt.delivery import Outbox
from tradewire.venues.ccxt.errors import OrderUnknown, raise_translated
from tradewire.venues.ccxt.exchanges import OrderLookup, profile
from tradewire.venues.ccxt.factory import build_exchange, saved_markets
from tradewire.venues.ccxt.index import OrderIndex, trades_of_order
from tradewire.venues.ccxt.leverage import Leverage, check_leverage
from tradewire.venues.ccxt.mapping import ErrorHandling, OrderRefused
from tradewire.venues.ccxt.stream import UserStream
from tradewire.venues.port import ConnectionHandler, OrderRef, QuoteHandler, ReportHandler, VenueCapabilities

logger = logging.getLogger(__name__)

_STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})


class CcxtVenue:
    """A `VenueClient` for binance, bybit, okx, kraken or coinbase. See the module docstring."""

    def __init__(
        self,
        config: CcxtVenueConfig,
        clock: Clock,
        credentials: Credentials | None = None,
        *,
        exchange: Any = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._venue = VenueId(config.venue)
        self._account = AccountId(config.account)
        self._profile = profile(config.exchange)
        self._credentials = credentials or Credentials(api_key=None, secret=None)
        markets = saved_markets(config, self._profile)
        self.exchange = (
            exchange
            if exchange is not None
            else build_exchange(config, self._profile, self._credentials, markets)
        )
        self._capabilities = VenueCapabilities(
            order_types=self._profile.order_types,
            time_in_force=self._profile.time_in_force,
            modify=self._profile.amend,
            reduce_only=True,
            max_client_order_id_length=self._profile.client_id.max_length,
        )
        self._index = OrderIndex(
            venue=self._venue,
            account=self._account,
            profile=self._profile,
            symbols={InstrumentId(config.instrument_id(s)): s for s in config.symbols},
            clock=clock,
        )
        self._symbols = self._index.symbols
        self._instrument_ids = self._index.instrument_ids
        self._instruments = self._index.instruments
        if markets is not None:
            self._instruments.update(self._map_instruments(markets))
            by_symbol = {self._symbols[i]: x for i, x in self._instruments.items()}
            check_leverage(config.leverage, by_symbol, markets, venue=self._venue)
        self._leverage = Leverage(
            config.leverage, self._profile, venue=self._venue, describe=self._redacted, fail=self._raise
        )
        self._outbox = Outbox()
        self._on_connection: ConnectionHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams_down: set[str] = set()
        self._stopped_reason: str | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"CcxtVenue(venue={self._venue!r}, exchange={self._profile.name!r}, account={self._account!r})"

    # --- identity and connection -------------------------------------------------------------------------

    @property
    def venue(self) -> VenueId:
        return self._venue

    @property
    def capabilities(self) -> VenueCapabilities:
        return self._capabilities

    @property
    def connected(self) -> bool:
        ready = self._outbox.open and not self._closed and self._stopped_reason is None
        return ready and not self._streams_down

    @property
    def stopped_reason(self) -> str | None:
        """Why the venue stopped itself (credentials refused); None while it runs."""
        return self._stopped_reason

    def instruments(self) -> list[Instrument]:
        return list(self._instruments.values())

    def _map_instruments(self, markets: Mapping[str, Any]) -> dict[InstrumentId, Instrument]:
        precision_mode = int(self.exchange.precisionMode)
        return mapping.instruments_of(
            markets, self._symbols, venue=self._venue, precision_mode=precision_mode
        )

    async def connect(
        self, on_report: ReportHandler, on_quote: QuoteHandler, on_connection: ConnectionHandler
    ) -> None:
        """Load markets (from the saved file when configured: no network), set the configured leverage
        (see `leverage.py`) and start the watch loops.

        Calling it again is a reconnect attempt: the watch loops start over with fresh subscriptions."""
        if self._closed:
            raise VenueUnavailable(f"{self._venue} was closed")
        if self._stopped_reason is not None:
            raise VenueAuthFailed(f"{self._venue} is stopped: {self._stopped_reason}")
        await self._stop_watching()
        self._streams_down.clear()
        with self._translated("load markets"):
            markets = await self.exchange.load_markets()
        if not self._instruments:
            if self._profile.precision_from_info_filters:
                markets = {s: mapping.with_tick_size_precision(m) for s, m in markets.items()}
                self.exchange.set_markets(list(markets.values()))
            self._instruments.update(self._map_instruments(markets))
        await self._leverage.apply(self.exchange)
        self._outbox.open_to(on_report)
        self._on_connection = on_connection
        on_connection(self._venue, True)
        if self._config.watch:
            for symbol in self._config.symbols:
                for name, receive, handle in (
                    ("orders", self.exchange.watch_orders, self._on_orders),
                    ("fills", self.exchange.watch_my_trades, self._on_trades),
                ):
                    stream = UserStream(
                        name=f"{self._venue}-{name}-{symbol}",
                        receive=functools.partial(receive, symbol),
                        handle=handle,
                        delays=(self._config.reconnect_delay, self._config.reconnect_delay_max),
                        running=lambda: not self._closed and self._stopped_reason is None,
                        on_state=self._stream_state,
                        on_auth_failure=lambda error: self._stop(self._redacted(error)),
                        describe=self._redacted,
                    )
                    self._spawn(stream.run(), stream.name)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._outbox.close()
        await self._stop_watching()
        await self.exchange.close()

    async def _stop_watching(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the user-data stream ------------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: a watch loop stopped", self._venue, exc_info=task.exception())
            self._stream_state(task.get_name(), up=False)

    def _stream_state(self, stream: str, up: bool) -> None:
        was_connected = self.connected
        if up:
            self._streams_down.discard(stream)
        else:
            self._streams_down.add(stream)
        if self._on_connection is not None and was_connected != self.connected:
            self._on_connection(self._venue, self.connected)

    async def _on_orders(self, orders: list[dict[str, Any]]) -> None:
        self._deliver_later([r for o in orders if (r := self._index.order_report(o)) is not None])

    async def _on_trades(self, trades: list[dict[str, Any]]) -> None:
        self._deliver_later(await self._fills(trades))

    # --- requests ----------------------------------------------------------------------------------------

    async def submit(self, order: OrderSpec) -> None:
        self._require_ready()
        with self._outbox.requesting(order.client_order_id):
            await self._submit(order)

    async def _submit(self, order: OrderSpec) -> None:
        now = self._clock.now()
        symbol, instrument = self._symbols.get(order.instrument), self._instruments.get(order.instrument)
        if symbol is None or instrument is None:
            reason = f"{order.instrument} is not traded at {self._venue} (traded: {', '.join(self._symbols)})"
            self._refuse(order, reason, now)
            return
        refusal = self._leverage.refusal(symbol, reduce_only=order.reduce_only)
        if refusal is not None:
            self._refuse(order, refusal, now)
            return
        try:
            request = mapping.create_order_request(
                order, symbol=symbol, instrument=instrument, profile=self._profile
            )
            mapping.check_precision(
                request, self.exchange.amount_to_precision, self.exchange.price_to_precision
            )
        except OrderRefused as refusal:
            self._refuse(order, f"not sent: {refusal}", now)
            return
        if not self._index.remember(order, symbol):
            # Never a second order under one client order ID (some exchanges would take it once the
            # first is closed): the order it names is the first one.
            reason = f"not sent: client order ID {order.client_order_id} was already used for an order"
            self._deliver_later([mapping.rejection_report(order, reason, venue=self._venue, now=now)])
            return
        price = mapping.as_float(request.price) if request.price is not None else None
        try:
            response = await self.exchange.create_order(
                symbol, request.type, request.side, mapping.as_float(request.amount), price, request.params
            )
        except ccxt_errors.BaseError as error:
            handling = mapping.error_handling(error, creating=True)
            if handling in (ErrorHandling.REJECTED, ErrorHandling.NOT_FOUND):
                reason = self._redacted(error)
                self._refuse(order, reason, now)
                return
            self._raise(error, handling, "submit")
        reports: list[ExecutionReport] = []
        status = self._index.order_report(response, sent=order)
        if status is not None:
            if status.filled_quantity > 0:
                # An order that filled on arrival was accepted first: say so, as the stream would.
                reports.append(
                    msgspec.structs.replace(
                        status, status=VenueOrderStatus.ACCEPTED, filled_quantity=ZERO, average_price=None
                    )
                )
            reports.append(status)
        trades = trades_of_order(response, symbol=symbol)
        reports.extend(await self._fills(trades, order.client_order_id))
        self._deliver_later(reports)

    def _refuse(self, order: OrderSpec, reason: str, now: datetime) -> None:
        """The order was refused (by us or the exchange) and no order exists under its client ID: say
        so now, and answer `order_status` with it later, in case this report is lost on its way."""
        report = mapping.rejection_report(order, reason, venue=self._venue, now=now)
        self._index.refused[order.client_order_id] = report
        self._deliver_later([report])

    async def cancel(self, order: OrderRef) -> None:
        self._require_ready()
        with self._outbox.requesting(order.client_order_id):
            await self._change(order, self.exchange.cancel_order, replace=False)

    async def modify(
        self, order: OrderRef, quantity: Decimal, limit_price: Decimal | None, stop_price: Decimal | None
    ) -> None:
        self._require_ready()
        with self._outbox.requesting(order.client_order_id):
            await self._modify(order, quantity, limit_price, stop_price)

    async def _modify(
        self, order: OrderRef, quantity: Decimal, limit_price: Decimal | None, stop_price: Decimal | None
    ) -> None:
        known = self._index.known.get(order.client_order_id)
        spec = known.spec if known is not None else None
        if not self._profile.amend:
            reason = f"{self._profile.name} amends are not supported; cancel and resubmit"
            self._refuse_change(order.client_order_id, reason, replace=True)
            return
        if spec is None or spec.order_type is not OrderType.LIMIT or stop_price is not None:
            reason = "only limit orders this engine sent in this run can be amended"
            self._refuse_change(order.client_order_id, reason, replace=True)
            return
        price = mapping.as_float(limit_price) if limit_price is not None else None
        edit = functools.partial(
            self._edit, side=spec.side.value, amount=mapping.as_float(quantity), price=price
        )
        await self._change(order, edit, replace=True)

    async def _edit(
        self,
        venue_order_id: str | None,
        symbol: str,
        params: dict[str, object],
        *,
        side: str,
        amount: float,
        price: float | None,
    ) -> Any:
        return await self.exchange.edit_order(venue_order_id, symbol, "limit", side, amount, price, params)

    async def _change(
        self, order: OrderRef, request: Callable[..., Awaitable[Any]], *, replace: bool
    ) -> None:
        """Cancel or amend: refusals become cancel rejects, other failures raise."""
        address = await self._address(order)
        if address is None:
            self._refuse_change(order.client_order_id, "unknown order", replace)
            return
        try:
            response = await request(*address)
        except ccxt_errors.BaseError as error:
            handling = mapping.error_handling(error)
            if handling in (ErrorHandling.REJECTED, ErrorHandling.NOT_FOUND):
                self._refuse_change(order.client_order_id, self._redacted(error), replace)
                return
            self._raise(error, handling, "modify" if replace else "cancel")
        # Some exchanges answer with the changed order, others only acknowledge the request; the
        # outcome then arrives on the stream (or at reconciliation).
        if response.get("status") is not None:
            report = self._index.order_report(response, client_order_id=order.client_order_id)
            if report is not None:
                self._deliver_later([report])

    def _refuse_change(self, client_order_id: ClientOrderId, reason: str, replace: bool) -> None:
        now = self._clock.now()
        reject = CancelRejectReport(
            venue=self._venue, client_order_id=client_order_id, reason=reason, ts_event=now, replace=replace
        )
        self._deliver_later([reject])

    async def _address(self, order: OrderRef) -> tuple[str | None, str, dict[str, object]] | None:
        """(venue order ID or None, symbol, params) that address the order at the exchange."""
        known = self._index.known.get(order.client_order_id)
        symbol = known.symbol if known is not None else self._symbols.get(order.instrument)
        if symbol is None:
            return None
        venue_order_id = order.venue_order_id or (known.venue_order_id if known is not None else None)
        params: dict[str, object] = {}
        stop = known is not None and known.spec is not None and known.spec.order_type in _STOP_TYPES
        if stop and self._profile.trigger_query_flag is not None:
            params[self._profile.trigger_query_flag] = True
        rule = self._profile.client_id
        if venue_order_id is None and rule.query_param is not None:
            params[rule.query_param] = mapping.encode_client_order_id(order.client_order_id, rule)
            return None, symbol, params
        if venue_order_id is None:
            found = await self.order_status(order.client_order_id)
            if found is None or found.venue_order_id is None:
                return None
            venue_order_id = found.venue_order_id
        return str(venue_order_id), symbol, params

    # --- queries -----------------------------------------------------------------------------------------

    async def order_status(self, client_order_id: ClientOrderId) -> OrderStatusReport | None:
        self._require_reachable()
        known = self._index.known.get(client_order_id)
        symbols = [known.symbol] if known is not None else list(self._symbols.values())
        for symbol in symbols:
            found = await self._find(client_order_id, symbol)
            if found is not None:
                sent = known.spec if known is not None else None
                return self._index.order_report(found, sent=sent, client_order_id=client_order_id)
        return self._index.refused.get(client_order_id)

    async def _find(self, client_order_id: ClientOrderId, symbol: str) -> dict[str, Any] | None:
        rule = self._profile.client_id
        wire = mapping.encode_client_order_id(client_order_id, rule)
        flags: list[dict[str, object]] = [{}]
        instrument = self._instruments.get(self._instrument_ids[symbol])
        contract = instrument is not None and instrument.asset_class is AssetClass.CRYPTO_PERPETUAL
        if contract and self._profile.trigger_query_flag is not None:
            flags.append({self._profile.trigger_query_flag: True})
        for extra in flags:
            if self._profile.lookup is OrderLookup.FETCH_ORDER and rule.query_param is not None:
                params = {rule.query_param: wire, **self._profile.fetch_order_params, **extra}
                try:
                    with self._translated("order status"):
                        order: dict[str, Any] = await self.exchange.fetch_order(None, symbol, params)
                except OrderUnknown:
                    continue
                return order
            scan_params: dict[str, object] = dict(extra)
            if rule.scan_filter_param is not None:
                scan_params[rule.scan_filter_param] = wire
            methods = ["fetch_open_orders", "fetch_closed_orders"]
            if self.exchange.has.get("fetchCanceledOrders"):
                methods.append("fetch_canceled_orders")
            for method in methods:
                with self._translated("order status"):
                    orders = await getattr(self.exchange, method)(symbol, None, None, scan_params)
                for candidate in orders:
                    if self._index.client_order_id_of(candidate) == client_order_id:
                        return dict(candidate)
        return None

    async def open_orders(self, account: AccountId | None = None) -> list[OrderStatusReport]:
        self._require_reachable()
        if account is not None and account != self._account:
            return []
        reports: list[OrderStatusReport] = []
        for symbol in self._config.symbols:
            with self._translated("open orders"):
                orders = await self.exchange.fetch_open_orders(symbol)
            reports.extend(r for o in orders if (r := self._index.order_report(o)) is not None)
        return reports

    async def fills_since(self, since: datetime, account: AccountId | None = None) -> list[FillReport]:
        """Fills at or after `since`, oldest first (one page per symbol: the exchange's default limit)."""
        self._require_reachable()
        if account is not None and account != self._account:
            return []
        fills: list[FillReport] = []
        for symbol in self._config.symbols:
            with self._translated("fills"):
                trades = await self.exchange.fetch_my_trades(symbol, mapping.to_milliseconds(since))
            fills.extend(await self._fills(trades))
        return sorted((f for f in fills if f.ts_event >= since), key=lambda f: f.ts_event)

    async def positions(self, account: AccountId | None = None) -> list[PositionReport]:
        """Perpetuals from `fetch_positions` (signed contracts); spot from the base currency's balance."""
        self._require_reachable()
        if account is not None and account != self._account:
            return []
        now = self._clock.now()
        contracts = [
            self._symbols[i]
            for i, x in self._instruments.items()
            if x.asset_class is AssetClass.CRYPTO_PERPETUAL
        ]
        spot = [
            (i, x.base_currency)
            for i, x in self._instruments.items()
            if x.asset_class is AssetClass.CRYPTO_SPOT
        ]
        reports: list[PositionReport] = []
        if contracts:
            with self._translated("positions"):
                positions = await self.exchange.fetch_positions(contracts)
            reports += mapping.net_positions(
                positions, self._instrument_ids, venue=self._venue, account=self._account, now=now
            )
        if spot:
            with self._translated("balances"):
                balances = await self.exchange.fetch_balance()
            reports += mapping.spot_positions(
                balances, spot, venue=self._venue, account=self._account, now=now
            )
        return reports

    # --- fills and delivery -------------------------------------------------------------------------

    async def _fills(
        self, trades: Iterable[Mapping[str, Any]], client_order_id: ClientOrderId | None = None
    ) -> list[FillReport]:
        fills = []
        for trade in trades:
            symbol = str(trade.get("symbol"))
            if symbol not in self._instrument_ids:
                continue
            owner = client_order_id or await self._owner_of(trade, symbol)
            if owner is None:
                logger.warning(
                    "%s: trade %s of order %s has no client order ID; skipped",
                    self._venue,
                    trade.get("id"),
                    trade.get("order"),
                )
                continue
            fill = self._index.fill_report(trade, owner)
            if fill is not None:
                fills.append(fill)
        return fills

    async def _owner_of(self, trade: Mapping[str, Any], symbol: str) -> ClientOrderId | None:
        """Our client order ID for a trade: from the trade, our index, or by asking for its order."""
        venue_order = trade.get("order")
        owner = self._index.client_order_id_of(
            {"clientOrderId": trade.get("clientOrderId"), "id": venue_order}
        )
        if owner is not None or not venue_order:
            return owner
        try:
            with self._translated("order of a fill"):
                order = await self.exchange.fetch_order(
                    str(venue_order), symbol, dict(self._profile.fetch_order_params)
                )
        except OrderUnknown:
            return None
        report = self._index.order_report(order)
        return report.client_order_id if report is not None else None

    def _deliver_later(self, reports: Sequence[ExecutionReport]) -> None:
        """Hand reports to the outbox: each order state once and in order, each fill once."""
        fresh = self._index.new_fills(r for r in reports if isinstance(r, FillReport))
        self._outbox.send(
            [
                r
                for r in reports
                if (isinstance(r, FillReport) and r in fresh)
                or (isinstance(r, OrderStatusReport) and (r.reason is not None or self._index.is_news(r)))
                or isinstance(r, CancelRejectReport)
            ]
        )

    def _redacted(self, error: BaseException) -> str:
        return mapping.redact(f"{type(error).__name__}: {error}", self._credentials.secrets())

    def _raise(self, error: BaseException, handling: ErrorHandling, operation: str) -> NoReturn:
        message = f"{self._venue} {operation}: {self._redacted(error)}"
        if handling is ErrorHandling.AUTH_FAILED:
            self._stop(message)
        raise_translated(error, handling, message)

    @contextmanager
    def _translated(self, operation: str) -> Any:
        try:
            yield
        except ccxt_errors.BaseError as error:
            self._raise(error, mapping.error_handling(error), operation)

    def _stop(self, reason: str) -> None:
        """Credentials refused: nothing will work until a human acts, so stop and say so loudly."""
        if self._stopped_reason is not None:
            return
        was_connected = self.connected
        self._stopped_reason = reason
        logger.critical(
            "%s stopped: the exchange refused our credentials (%s); fix the API key and restart",
            self._venue,
            reason,
        )
        if was_connected and self._on_connection is not None:
            self._on_connection(self._venue, False)

    def _require_ready(self) -> None:
        if self._stopped_reason is not None:
            raise VenueAuthFailed(f"{self._venue} is stopped: {self._stopped_reason}")
        if not self.connected:
            raise VenueUnavailable(f"{self._venue} is not connected; the request was not sent")

    def _require_reachable(self) -> None:
        if self._closed or not self._outbox.open:
            raise VenueUnavailable(f"{self._venue} is not connected")
        if self._stopped_reason is not None:
            raise VenueAuthFailed(f"{self._venue} is stopped: {self._stopped_reason}")

"""Pure translation between ccxt's unified structures and the domain's instruments, orders and reports.

Nothing here does I/O. ccxt hands us dicts of floats; every number becomes a `Decimal` through its
shortest repr (`str(float)`), which is exactly the decimal the exchange sent for any value with 15
significant digits or fewer. Rounding is ours (`domain.values`); ccxt's precision helpers are only a
final check in the client.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from ccxt.base import errors as ccxt_errors

from tradewire.domain.enums import (
    AssetClass,
    LiquiditySide,
    OrderType,
    Side,
    TimeInForce,
    VenueOrderStatus,
)
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, FillId, InstrumentId, VenueId, VenueOrderId
from tradewire.domain.instruments import Instrument
from tradewire.domain.reports import FillReport, OrderStatusReport, PositionReport
from tradewire.domain.values import ZERO
from tradewire.venues.ccxt.exchanges import ClientIdRule, ExchangeProfile

Market = Mapping[str, Any]
"""A ccxt market structure (`exchange.markets[symbol]`)."""
CcxtOrder = Mapping[str, Any]
CcxtTrade = Mapping[str, Any]
CcxtPosition = Mapping[str, Any]

DECIMAL_PLACES = 2
"""ccxt's precision mode where precision is a count of digits (TICK_SIZE, 4, is a step)."""


class OrderRefused(ValueError):
    """We will not send this order: the refusal is final, and says what would be accepted."""


# --- numbers and times ---------------------------------------------------------------------------------


def to_decimal(value: object) -> Decimal | None:
    """A Decimal from a ccxt number (float, int or numeric string); None stays None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float | int | str):
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def to_time(milliseconds: object, default: datetime) -> datetime:
    if isinstance(milliseconds, int | float) and not isinstance(milliseconds, bool) and milliseconds > 0:
        return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    return default


def to_milliseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def as_float(value: Decimal) -> float:
    """The float ccxt expects; exact for prices and sizes of up to 15 significant digits."""
    return float(value)


# --- markets -------------------------------------------------------------------------------------------


_MARKET_KEYS = ("spot", "margin", "swap", "future", "option", "contract", "linear", "inverse", "contractSize")


def with_unified_keys(market: Market) -> dict[str, Any]:
    """The market with every key today's ccxt reads (files saved by older versions miss some, e.g.
    `inverse` on spot markets, and ccxt's order parsing then fails with a KeyError)."""
    completed = dict(market)
    for key in _MARKET_KEYS:
        completed.setdefault(key, None)
    return completed


def with_tick_size_precision(market: Market) -> dict[str, Any]:
    """The market with `precision` read from the raw `info.filters` (LOT_SIZE stepSize, PRICE_FILTER
    tickSize) when it has them. Saved markets files from older ccxt versions carry digit counts there,
    which ccxt's tick-size mode would misread (a step of 5 instead of 0.00001)."""
    patched = dict(market)
    info = market.get("info")
    filters = info.get("filters") if isinstance(info, Mapping) else None
    if not isinstance(filters, list):
        return patched
    precision = dict(market.get("precision") or {})
    for entry in filters:
        if not isinstance(entry, Mapping):
            continue
        if entry.get("filterType") == "LOT_SIZE" and to_decimal(entry.get("stepSize")):
            precision["amount"] = float(str(entry["stepSize"]))
        elif entry.get("filterType") == "PRICE_FILTER" and to_decimal(entry.get("tickSize")):
            precision["price"] = float(str(entry["tickSize"]))
    patched["precision"] = precision
    return patched


def _step(value: object, precision_mode: int, what: str, symbol: str) -> Decimal:
    number = to_decimal(value)
    if number is None or number <= 0:
        raise ValueError(f"market {symbol} has no usable {what} precision ({value!r})")
    if precision_mode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(number))
    return number


def _limit(market: Market, group: str, bound: str) -> Decimal | None:
    limits = market.get("limits") or {}
    entry = limits.get(group) or {}
    value = to_decimal(entry.get(bound))
    return value if value is not None and value > 0 else None


def asset_class(market: Market) -> AssetClass:
    symbol = market.get("symbol")
    if market.get("spot"):
        return AssetClass.CRYPTO_SPOT
    if market.get("swap"):
        if not market.get("linear"):
            raise ValueError(
                f"{symbol} is an inverse swap; only spot and linear perpetuals are supported "
                "(notional = quantity x price x contract size must hold)"
            )
        return AssetClass.CRYPTO_PERPETUAL
    raise ValueError(f"{symbol} is a {market.get('type')} market; accepted: spot, linear swap")


def to_instrument(
    market: Market, *, venue: VenueId, instrument_id: InstrumentId, precision_mode: int
) -> Instrument:
    """Our instrument and its rules from a ccxt market: tick, lot, minimums, contract size, fees.

    For perpetuals the quantity is in contracts (as the exchange counts it) and the multiplier is the
    contract size, so notional = quantity x price x multiplier."""
    symbol = str(market.get("symbol"))
    kind = asset_class(market)
    precision = market.get("precision") or {}
    tick = _step(precision.get("price"), precision_mode, "price", symbol)
    lot = _step(precision.get("amount"), precision_mode, "amount", symbol)
    min_amount = _limit(market, "amount", "min")
    multiplier = to_decimal(market.get("contractSize")) if kind is AssetClass.CRYPTO_PERPETUAL else None
    return Instrument(
        instrument_id=instrument_id,
        venue=venue,
        asset_class=kind,
        base_currency=str(market.get("base")),
        quote_currency=str(market.get("quote")),
        tick_size=tick,
        lot_size=lot,
        min_quantity=max(min_amount, lot) if min_amount is not None else lot,
        max_quantity=_limit(market, "amount", "max"),
        min_notional=_limit(market, "cost", "min"),
        multiplier=multiplier if multiplier is not None and multiplier > 0 else Decimal(1),
        maker_fee_rate=to_decimal(market.get("maker")) or ZERO,
        taker_fee_rate=to_decimal(market.get("taker")) or ZERO,
        venue_symbol=str(market.get("id")),
    )


def instruments_of(
    markets: Mapping[str, Market], symbols: Mapping[InstrumentId, str], *, venue: VenueId, precision_mode: int
) -> dict[InstrumentId, Instrument]:
    """Our instruments for the configured symbols; a symbol the exchange does not list is an error."""
    missing = [symbol for symbol in symbols.values() if symbol not in markets]
    if missing:
        raise ValueError(f"{venue}: the exchange has no market {', '.join(missing)}")
    return {
        instrument: to_instrument(
            markets[symbol], venue=venue, instrument_id=instrument, precision_mode=precision_mode
        )
        for instrument, symbol in symbols.items()
    }


# --- client order IDs ----------------------------------------------------------------------------------

_ESCAPE = "Z"


def _escaping(rule: ClientIdRule) -> bool:
    """Exchanges that refuse "-" (our IDs contain one) get a reversible escape: "Z" + two hex digits."""
    return re.fullmatch(f"[{rule.allowed}]", "-") is None


def encode_client_order_id(client_order_id: ClientOrderId, rule: ClientIdRule) -> str:
    allowed = re.compile(f"[{rule.allowed}]")
    if _escaping(rule):
        wire = "".join(
            f"{_ESCAPE}{ord(c):02X}" if c == _ESCAPE or not allowed.fullmatch(c) else c
            for c in client_order_id
        )
    else:
        wire = client_order_id
        bad = sorted({c for c in wire if not allowed.fullmatch(c)})
        if bad:
            raise OrderRefused(f"client order ID {client_order_id!r} has characters {bad} the venue refuses")
    if not wire or len(wire) > rule.max_length or any(ord(c) > 0x7E for c in wire):
        raise OrderRefused(
            f"client order ID {client_order_id!r} is {len(wire)} characters as sent ({wire!r}); "
            f"the venue accepts 1-{rule.max_length} of [{rule.allowed}]"
        )
    return wire


def decode_client_order_id(wire: str, rule: ClientIdRule) -> ClientOrderId:
    if not _escaping(rule):
        return ClientOrderId(wire)
    out: list[str] = []
    index = 0
    while index < len(wire):
        char = wire[index]
        code = wire[index + 1 : index + 3]
        if char == _ESCAPE and len(code) == 2 and all(c in "0123456789ABCDEF" for c in code):
            out.append(chr(int(code, 16)))
            index += 3
        else:
            out.append(char)
            index += 1
    return ClientOrderId("".join(out))


# --- orders out ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateOrderRequest:
    """The arguments of ccxt's `create_order(symbol, type, side, amount, price, params)`."""

    symbol: str
    type: str
    side: str
    amount: Decimal
    price: Decimal | None
    params: dict[str, object]


def create_order_request(
    spec: OrderSpec, *, symbol: str, instrument: Instrument, profile: ExchangeProfile
) -> CreateOrderRequest:
    """The ccxt request for one of our orders, or `OrderRefused` saying what the venue would accept.

    Prices and quantities must already be on the instrument's grid (sizing rounds them, directionally);
    an off-grid value is refused here rather than rounded again."""
    if spec.order_type not in profile.order_types:
        accepted = ", ".join(sorted(profile.order_types))
        raise OrderRefused(
            f"{profile.name} does not take {spec.order_type} orders here (accepted: {accepted})"
        )
    limit_order = spec.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    if spec.time_in_force not in profile.time_in_force:
        accepted = ", ".join(sorted(profile.time_in_force))
        raise OrderRefused(
            f"{profile.name} does not take time in force {spec.time_in_force} (accepted: {accepted})"
        )
    if spec.quantity <= 0 or not instrument.is_on_lot(spec.quantity):
        raise OrderRefused(
            f"quantity {spec.quantity} is not a positive multiple of the lot {instrument.lot_size}"
        )
    for name, price in (("limit price", spec.limit_price), ("stop price", spec.stop_price)):
        if price is not None and (price <= 0 or not instrument.is_on_tick(price)):
            raise OrderRefused(
                f"{name} {price} is not a positive multiple of the tick {instrument.tick_size}"
            )
    if limit_order and spec.limit_price is None:
        raise OrderRefused(f"a {spec.order_type} order needs a limit price")
    stop_order = spec.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
    if stop_order and spec.stop_price is None:
        raise OrderRefused(f"a {spec.order_type} order needs a stop price")
    params: dict[str, object] = {
        profile.client_id.create_param: encode_client_order_id(spec.client_order_id, profile.client_id)
    }
    # GTC is every exchange's default for resting orders; market orders take no time in force.
    if limit_order and spec.time_in_force is not TimeInForce.GTC:
        params["timeInForce"] = spec.time_in_force.upper()
    contract = instrument.asset_class is AssetClass.CRYPTO_PERPETUAL
    if stop_order and spec.stop_price is not None:
        params[profile.stop_price_param] = as_float(spec.stop_price)
        if contract and profile.trigger_direction_param is not None:
            # A buy stop triggers on a rise to the stop price, a sell stop on a fall.
            params[profile.trigger_direction_param] = "above" if spec.side is Side.BUY else "below"
    # Reduce-only means something only where there is a position to reduce: perpetuals. On spot the
    # risk gate's checks stand in for it.
    if spec.reduce_only and contract:
        params[profile.reduce_only_param] = True
    return CreateOrderRequest(
        symbol=symbol,
        type="limit" if limit_order else "market",
        side=spec.side.value,
        amount=spec.quantity,
        price=spec.limit_price if limit_order else None,
        params=params,
    )


def check_precision(
    request: CreateOrderRequest,
    amount_to_precision: Callable[..., Any],
    price_to_precision: Callable[..., Any],
) -> None:
    """ccxt's own rounding (`amount_to_precision`, `price_to_precision`), as a last check that it sends
    exactly what we decided; our directional rounding happened before, in sizing."""
    checks = [("amount", request.amount, amount_to_precision)]
    if request.price is not None:
        checks.append(("price", request.price, price_to_precision))
    for name, value, to_precision in checks:
        try:
            sent = Decimal(str(to_precision(request.symbol, as_float(value))))
        except ccxt_errors.BaseError as error:
            raise OrderRefused(f"{name} {value}: {error}") from None
        if sent != value:
            raise OrderRefused(f"{name} {value} would be sent as {sent}")


# --- orders and fills in -------------------------------------------------------------------------------

_STATUSES = {
    "canceled": VenueOrderStatus.CANCELED,
    "cancelled": VenueOrderStatus.CANCELED,
    "expired": VenueOrderStatus.EXPIRED,
    "rejected": VenueOrderStatus.REJECTED,
}


def order_type_of(order: CcxtOrder) -> OrderType:
    stop = stop_price_of(order) is not None
    if order.get("type") == "market":
        return OrderType.STOP if stop else OrderType.MARKET
    return OrderType.STOP_LIMIT if stop else OrderType.LIMIT


def stop_price_of(order: CcxtOrder) -> Decimal | None:
    for key in ("triggerPrice", "stopPrice", "stopLossPrice"):
        value = to_decimal(order.get(key))
        if value is not None and value > 0:
            return value
    return None


def venue_status(raw: object, filled: Decimal, quantity: Decimal) -> VenueOrderStatus:
    """ccxt's unified status as ours. "closed" with part unfilled means the rest was canceled."""
    if raw == "open" or raw is None:
        return VenueOrderStatus.PARTIALLY_FILLED if filled > 0 else VenueOrderStatus.ACCEPTED
    if raw == "closed":
        return VenueOrderStatus.FILLED if filled >= quantity else VenueOrderStatus.CANCELED
    return _STATUSES.get(str(raw), VenueOrderStatus.ACCEPTED)


def status_report(
    order: CcxtOrder,
    *,
    venue: VenueId,
    account: AccountId,
    client_order_id: ClientOrderId,
    instrument: InstrumentId,
    now: datetime,
    sent: OrderSpec | None = None,
) -> OrderStatusReport:
    """What the venue says about one order. `sent` (what we sent, when we know it) fills what an
    acknowledgement leaves out: some exchanges answer a create with little more than the order ID."""
    quantity = to_decimal(order.get("amount")) or (sent.quantity if sent is not None else ZERO)
    filled = to_decimal(order.get("filled")) or ZERO
    side_text = order.get("side")
    side = Side(side_text) if side_text in ("buy", "sell") else (sent.side if sent is not None else Side.BUY)
    order_type = sent.order_type if sent is not None else order_type_of(order)
    limit_price = (
        to_decimal(order.get("price")) if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    )
    venue_order = order.get("id")
    return OrderStatusReport(
        venue=venue,
        account=account,
        client_order_id=client_order_id,
        venue_order_id=VenueOrderId(str(venue_order)) if venue_order else None,
        instrument=instrument,
        side=side,
        order_type=order_type,
        quantity=quantity,
        filled_quantity=filled,
        status=venue_status(order.get("status"), filled, quantity),
        ts_event=to_time(order.get("lastUpdateTimestamp") or order.get("timestamp"), now),
        average_price=to_decimal(order.get("average")) if filled > 0 else None,
        limit_price=limit_price or (sent.limit_price if sent is not None else None),
        stop_price=stop_price_of(order) or (sent.stop_price if sent is not None else None),
    )


def rejection_report(spec: OrderSpec, reason: str, *, venue: VenueId, now: datetime) -> OrderStatusReport:
    return OrderStatusReport(
        venue=venue,
        account=spec.account,
        client_order_id=spec.client_order_id,
        venue_order_id=None,
        instrument=spec.instrument,
        side=spec.side,
        order_type=spec.order_type,
        quantity=spec.quantity,
        filled_quantity=ZERO,
        status=VenueOrderStatus.REJECTED,
        ts_event=now,
        limit_price=spec.limit_price,
        stop_price=spec.stop_price,
        reason=reason,
    )


def fill_report(
    trade: CcxtTrade,
    *,
    venue: VenueId,
    account: AccountId,
    client_order_id: ClientOrderId,
    instrument: InstrumentId,
    quote_currency: str,
    now: datetime,
) -> FillReport:
    fee = trade.get("fee") or {}
    maker_or_taker = trade.get("takerOrMaker")
    venue_order = trade.get("order")
    quantity, price = to_decimal(trade.get("amount")), to_decimal(trade.get("price"))
    if not trade.get("id") or quantity is None or price is None or trade.get("side") not in ("buy", "sell"):
        raise ValueError(f"a trade without id, side, amount or price cannot be a fill: {dict(trade)!r}")
    return FillReport(
        venue=venue,
        account=account,
        client_order_id=client_order_id,
        venue_order_id=VenueOrderId(str(venue_order)) if venue_order else None,
        fill_id=FillId(str(trade["id"])),
        instrument=instrument,
        side=Side(trade["side"]),
        quantity=quantity,
        price=price,
        fee=to_decimal(fee.get("cost")) or ZERO,
        fee_currency=str(fee.get("currency") or quote_currency),
        liquidity=(
            LiquiditySide(maker_or_taker) if maker_or_taker in ("maker", "taker") else LiquiditySide.NONE
        ),
        ts_event=to_time(trade.get("timestamp"), now),
    )


def net_positions(
    positions: Iterable[CcxtPosition],
    instrument_ids: Mapping[str, InstrumentId],
    *,
    venue: VenueId,
    account: AccountId,
    now: datetime,
) -> list[PositionReport]:
    """One signed position (in contracts) per instrument; hedge-mode long and short legs are netted."""
    totals: dict[InstrumentId, tuple[Decimal, Decimal]] = {}
    for position in positions:
        instrument = instrument_ids.get(str(position.get("symbol")))
        contracts = to_decimal(position.get("contracts"))
        if instrument is None or not contracts:
            continue
        signed = -abs(contracts) if position.get("side") == "short" else abs(contracts)
        entry = to_decimal(position.get("entryPrice")) or ZERO
        quantity, cost = totals.get(instrument, (ZERO, ZERO))
        totals[instrument] = (quantity + signed, cost + signed * entry)
    return [
        PositionReport(
            venue=venue,
            account=account,
            instrument=instrument,
            quantity=quantity,
            average_price=(cost / quantity) if cost else None,
            ts_event=now,
        )
        for instrument, (quantity, cost) in sorted(totals.items())
        if quantity != 0
    ]


def spot_positions(
    balances: Mapping[str, Any],
    bases: Sequence[tuple[InstrumentId, str]],
    *,
    venue: VenueId,
    account: AccountId,
    now: datetime,
) -> list[PositionReport]:
    """Spot holdings as positions: the total balance of each instrument's base currency. A currency
    is attributed to the first instrument that has it as base, so it is never counted twice."""
    totals = balances.get("total") or {}
    seen: set[str] = set()
    reports: list[PositionReport] = []
    for instrument, base in bases:
        if base in seen:
            continue
        seen.add(base)
        quantity = to_decimal(totals.get(base))
        if quantity:
            reports.append(
                PositionReport(
                    venue=venue,
                    account=account,
                    instrument=instrument,
                    quantity=quantity,
                    average_price=None,
                    ts_event=now,
                )
            )
    return reports


# --- errors --------------------------------------------------------------------------------------------


class ErrorHandling(StrEnum):
    """How an exchange error is handled, by what it tells us about the request's fate."""

    REJECTED = "rejected"
    """The exchange refused the request: final, reported as a rejection."""
    NOT_FOUND = "not_found"
    """The order is not known there (a cancel is refused; a query answers "none")."""
    RETRY_LATER = "retry_later"
    """Refused for now (rate limit, maintenance): certainly not carried out; the engine may retry."""
    AUTH_FAILED = "auth_failed"
    """Keys wrong, expired or lacking permission: stop the venue and alert a human."""
    UNKNOWN_OUTCOME = "unknown_outcome"
    """The request may have been carried out: never resend; query by client order ID."""


ERROR_HANDLING: Mapping[type[Exception], ErrorHandling] = {
    ccxt_errors.OrderNotFound: ErrorHandling.NOT_FOUND,
    ccxt_errors.InvalidOrder: ErrorHandling.REJECTED,
    ccxt_errors.InsufficientFunds: ErrorHandling.REJECTED,
    ccxt_errors.BadRequest: ErrorHandling.REJECTED,
    ccxt_errors.NotSupported: ErrorHandling.REJECTED,
    ccxt_errors.ArgumentsRequired: ErrorHandling.REJECTED,
    ccxt_errors.OperationRejected: ErrorHandling.REJECTED,
    ccxt_errors.AuthenticationError: ErrorHandling.AUTH_FAILED,
    ccxt_errors.RateLimitExceeded: ErrorHandling.RETRY_LATER,
    ccxt_errors.DDoSProtection: ErrorHandling.RETRY_LATER,
    ccxt_errors.OnMaintenance: ErrorHandling.RETRY_LATER,
    ccxt_errors.InvalidNonce: ErrorHandling.RETRY_LATER,
    ccxt_errors.ExchangeNotAvailable: ErrorHandling.RETRY_LATER,
    ccxt_errors.RequestTimeout: ErrorHandling.UNKNOWN_OUTCOME,
    ccxt_errors.NetworkError: ErrorHandling.UNKNOWN_OUTCOME,
    ccxt_errors.CancelPending: ErrorHandling.UNKNOWN_OUTCOME,
    ccxt_errors.BadResponse: ErrorHandling.UNKNOWN_OUTCOME,
    # An error the exchange answered with but ccxt could not classify: the exchange read the request
    # and refused it.
    ccxt_errors.ExchangeError: ErrorHandling.REJECTED,
}
"""The most specific class in an error's MRO decides; anything else has an unknown outcome."""


def error_handling(error: BaseException, *, creating: bool = False) -> ErrorHandling:
    """How to handle `error`. On a create, `ExchangeNotAvailable` (an HTTP 5xx or a dropped
    connection, not maintenance) may come after the exchange took the order - Binance documents 503
    as "execution status unknown" - so it is an unknown outcome there, not a retry."""
    for cls in type(error).__mro__:
        handling = ERROR_HANDLING.get(cls)
        if handling is None:
            continue
        if creating and cls is ccxt_errors.ExchangeNotAvailable:
            return ErrorHandling.UNKNOWN_OUTCOME
        return handling
    return ErrorHandling.UNKNOWN_OUTCOME


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced, for error messages that may echo a request."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "**********")
    return text

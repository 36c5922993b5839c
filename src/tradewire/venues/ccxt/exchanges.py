"""What differs between the exchanges we trade through ccxt, declared as data.

Shared code never asks which exchange it talks to; it reads the exchange's `ExchangeProfile`. Every
fact here was checked against ccxt 4.5's source (`ccxt/async_support/<exchange>.py`) and the
exchange's API documentation; the comments say where a choice is ours rather than the exchange's.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from tradewire.domain.enums import OrderType, TimeInForce

ExchangeName = Literal["binance", "bybit", "okx", "kraken", "coinbase"]


class OrderLookup(StrEnum):
    """How an order is found by our client order ID alone (after a timeout, or at restart)."""

    FETCH_ORDER = "fetch_order"
    """`fetch_order(None, symbol, {param: client id})`: the exchange looks it up by client ID."""
    SCAN = "scan"
    """`fetch_open_orders` then `fetch_closed_orders` per symbol, matched on the client ID (with
    `ClientIdRule.scan_filter_param` as a server-side filter when the exchange has one)."""


@dataclass(frozen=True, slots=True)
class ClientIdRule:
    """Where our client order ID goes and what the exchange accepts there."""

    create_param: str
    """The key handed to ccxt's `create_order` params (ccxt puts it in `wire_field`)."""
    wire_field: str
    """The exchange's own field name, as it appears in the request body."""
    max_length: int
    allowed: str
    """A regular-expression character class of the characters the exchange accepts."""
    query_param: str | None
    """The params key that makes `fetch_order`/`cancel_order`/`edit_order` address the client ID;
    None: the venue order ID is needed (looked up first when we do not have it)."""
    scan_filter_param: str | None = None
    """A params key that filters the open/closed order lists by client ID on the server."""


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One of the exchange's own error codes, as its JSON error body carries it (ccxt quotes that body
    in the message of the error it raises)."""

    field: str
    """The body's key for the code, e.g. "retCode"."""
    value: str


@dataclass(frozen=True, slots=True)
class ExchangeProfile:
    name: ExchangeName
    ccxt_id: str
    client_id: ClientIdRule
    order_types: frozenset[OrderType]
    time_in_force: frozenset[TimeInForce]
    stop_price_param: str
    """The ccxt params key that carries a stop (trigger) price."""
    trigger_direction_param: str | None = None
    """Contracts only: the params key that says whether a stop triggers on a rise or a fall."""
    trigger_query_flag: str | None = None
    """A params flag that `fetch_order`/`cancel_order` need to address a stop (trigger) order."""
    amend: bool = False
    reduce_only_param: str = "reduceOnly"
    testnet: bool = False
    """ccxt has sandbox URLs for it (`set_sandbox_mode(True)`)."""
    lookup: OrderLookup = OrderLookup.SCAN
    fetch_order_params: MappingProxyType[str, object] = field(default_factory=lambda: MappingProxyType({}))
    """Extra params every `fetch_order` by venue order ID needs."""
    ccxt_options: MappingProxyType[str, object] = field(default_factory=lambda: MappingProxyType({}))
    """ccxt `options` set on the exchange object at construction."""
    rate_limit_ms: int = 100
    """Milliseconds between requests (ccxt's `rateLimit`, with `enableRateLimit`)."""
    precision_from_info_filters: bool = False
    """Read tick and lot from the raw `info.filters` (saved markets files may carry digit counts)."""
    requires_password: bool = False
    leverage_unchanged: ErrorCode | None = None
    """The error an exchange answers `set_leverage` with when the leverage already is the one asked
    for; it means success. None: the exchange simply accepts an unchanged leverage."""


_GTC_IOC_FOK = frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK})
_ALL_TYPES = frozenset(OrderType)

PROFILES: MappingProxyType[ExchangeName, ExchangeProfile] = MappingProxyType(
    {
        "binance": ExchangeProfile(
            name="binance",
            ccxt_id="binance",
            # newClientOrderId: ^[.A-Z:/a-z0-9_-]{1,36}$; queried and canceled as origClientOrderId.
            client_id=ClientIdRule(
                "newClientOrderId", "newClientOrderId", 36, r"A-Za-z0-9.:/_\-", "origClientOrderId"
            ),
            order_types=_ALL_TYPES,
            time_in_force=_GTC_IOC_FOK,
            stop_price_param="triggerPrice",
            # USD-M stops live on the algo-order endpoints; ccxt needs `trigger` to address them.
            trigger_query_flag="trigger",
            # ccxt edits spot orders by cancel-replace, which gives the order a new client ID: we
            # would lose the order's identity, so amend is off (cancel and resubmit instead).
            amend=False,
            testnet=True,
            lookup=OrderLookup.FETCH_ORDER,
            rate_limit_ms=50,
            precision_from_info_filters=True,
        ),
        "bybit": ExchangeProfile(
            name="bybit",
            ccxt_id="bybit",
            # ccxt reads only `clientOrderId` and sends it as orderLinkId (max 36: letters, digits, - _).
            client_id=ClientIdRule(
                "clientOrderId", "orderLinkId", 36, r"A-Za-z0-9_\-", "orderLinkId", "orderLinkId"
            ),
            order_types=_ALL_TYPES,
            time_in_force=_GTC_IOC_FOK,
            stop_price_param="triggerPrice",
            trigger_direction_param="triggerDirection",
            trigger_query_flag="trigger",
            amend=True,
            testnet=True,
            # v5 fetchOrder only sees the last 500 orders; open + closed lists filter by orderLinkId.
            lookup=OrderLookup.SCAN,
            fetch_order_params=MappingProxyType({"acknowledged": True}),
            # Unified trading accounts are the norm; without these ccxt asks the account type first.
            ccxt_options=MappingProxyType({"enableUnifiedAccount": True, "enableUnifiedMargin": False}),
            rate_limit_ms=20,
            # /v5/position/set-leverage answers 110043 "Set leverage not modified" (ccxt: BadRequest).
            leverage_unchanged=ErrorCode("retCode", "110043"),
        ),
        "okx": ExchangeProfile(
            name="okx",
            ccxt_id="okx",
            # clOrdId: 1-32 case-sensitive letters and digits only.
            client_id=ClientIdRule("clOrdId", "clOrdId", 32, r"A-Za-z0-9", "clOrdId"),
            # Stops are algo orders at OKX (their own IDs and endpoints); not supported yet.
            order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
            time_in_force=_GTC_IOC_FOK,
            stop_price_param="triggerPrice",
            amend=True,
            testnet=True,
            lookup=OrderLookup.FETCH_ORDER,
            rate_limit_ms=110,
            requires_password=True,
        ),
        "kraken": ExchangeProfile(
            name="kraken",
            ccxt_id="kraken",
            # cl_ord_id: a UUID, or free text of at most 18 characters (we keep to letters and digits).
            client_id=ClientIdRule("clientOrderId", "cl_ord_id", 18, r"A-Za-z0-9", "cl_ord_id"),
            order_types=_ALL_TYPES,
            time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC}),
            # ccxt kraken turns stopLossPrice into ordertype stop-loss / stop-loss-limit.
            stop_price_param="stopLossPrice",
            amend=True,
            testnet=False,
            lookup=OrderLookup.SCAN,
            rate_limit_ms=1000,
        ),
        "coinbase": ExchangeProfile(
            name="coinbase",
            ccxt_id="coinbase",
            # ccxt ignores `clientOrderId` for coinbase and generates its own unless client_order_id is given.
            client_id=ClientIdRule("client_order_id", "client_order_id", 64, r"A-Za-z0-9_\-", None),
            # Advanced Trade has stop-limit but no stop-market order.
            order_types=frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_LIMIT}),
            time_in_force=_GTC_IOC_FOK,
            stop_price_param="triggerPrice",
            amend=True,
            testnet=False,
            lookup=OrderLookup.SCAN,
            rate_limit_ms=34,
        ),
    }
)


def profile(name: str) -> ExchangeProfile:
    try:
        return PROFILES[name]  # type: ignore[index]
    except KeyError:
        accepted = ", ".join(PROFILES)
        raise ValueError(f"exchange {name!r} is not supported (accepted: {accepted})") from None

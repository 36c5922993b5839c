"""Sides, statuses and kinds as string enums, with named sets instead of scattered `if` chains."""

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    GTC = "gtc"
    DAY = "day"
    IOC = "ioc"
    FOK = "fok"


class AssetClass(StrEnum):
    FX = "fx"
    EQUITY = "equity"
    FUTURE = "future"
    OPTION = "option"
    CRYPTO_SPOT = "crypto_spot"
    CRYPTO_PERPETUAL = "crypto_perpetual"
    CFD = "cfd"


class LiquiditySide(StrEnum):
    MAKER = "maker"
    TAKER = "taker"
    NONE = "none"


class OrderStatus(StrEnum):
    PENDING_NEW = "pending_new"
    """Passed risk and journaled; not yet handed to the venue."""
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    CANCELED = "canceled"
    REJECTED = "rejected"
    """Refused by the venue."""
    EXPIRED = "expired"
    DENIED = "denied"
    """Refused by our own checks (sizing or risk); never sent."""


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.DENIED,
    }
)
OPEN_STATUSES = frozenset(set(OrderStatus) - TERMINAL_STATUSES)
"""Orders that may still trade: counted as working exposure by risk and reconciled with the venue."""
IN_FLIGHT_STATUSES = frozenset({OrderStatus.PENDING_NEW, OrderStatus.SUBMITTED})
"""Orders whose existence at the venue is not yet confirmed."""
CANCELABLE_STATUSES = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_REPLACE,
    }
)


class VenueOrderStatus(StrEnum):
    """What a venue says about an order in a status report (venue truth, not our lifecycle)."""

    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


VENUE_TERMINAL_STATUSES = frozenset(
    {
        VenueOrderStatus.FILLED,
        VenueOrderStatus.CANCELED,
        VenueOrderStatus.REJECTED,
        VenueOrderStatus.EXPIRED,
    }
)


class TradingState(StrEnum):
    """The kill switch: ACTIVE trades, REDUCING lets only risk-reducing orders through, HALTED none."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class SignalOutcome(StrEnum):
    ACCEPTED = "accepted"
    """Orders were created (and sent)."""
    DENIED = "denied"
    """Sizing or risk refused it; the denial reason says why."""
    NO_ACTION = "no_action"
    """A target position already held: nothing to do."""

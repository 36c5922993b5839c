"""Commands and events: frozen, typed, tagged structs, so the journal codec is generated.

Every journal record carries an ID, when it happened (`ts_event`) and when we recorded it
(`ts_recorded`). Events are past tense and are the only thing that changes state; `inferred` marks
events the engine derived from a venue report during reconciliation rather than from a live message.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, TypedDict

import msgspec

from tradewire.domain.enums import (
    LiquiditySide,
    OrderStatus,
    OrderType,
    Side,
    SignalOutcome,
    TimeInForce,
    TradingState,
)
from tradewire.domain.health import VenueHealth
from tradewire.domain.ids import (
    AccountId,
    ClientOrderId,
    EventId,
    FillId,
    InstrumentId,
    SignalId,
    StrategyId,
    VenueId,
    VenueOrderId,
)
from tradewire.domain.limits import Limits
from tradewire.domain.signals import Signal


class OrderSpec(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What was decided to send: one order, one venue, one account."""

    client_order_id: ClientOrderId
    account: AccountId
    strategy: StrategyId
    instrument: InstrumentId
    venue: VenueId
    side: Side
    order_type: OrderType
    quantity: Decimal
    time_in_force: TimeInForce
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    signal_id: SignalId | None = None
    signal_price: Decimal | None = None
    reduce_only: bool = False
    route: str | None = None
    """Why this account and venue: e.g. "default account of strategy trend; EURUSD trades at paper"."""


class Header(TypedDict):
    """The fields every record carries, built in one place (`oms.identifiers.Stamp`)."""

    event_id: EventId
    ts_event: datetime
    ts_recorded: datetime


class Record(msgspec.Struct, frozen=True, kw_only=True, tag=True, gc=False):
    """Base of everything in the journal.

    `gc=False`: a record is immutable and holds only values made before it, so it can never be part
    of a reference cycle; untracked, the millions a replay decodes cost the garbage collector nothing.
    """

    event_id: EventId
    ts_event: datetime
    ts_recorded: datetime


# --- commands (imperative): journaled for the audit trail, they change no state by themselves ---


class CancelOrder(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    requested_by: str


class ModifyOrder(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    requested_by: str
    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


# --- events (past tense) ---


class SignalHandled(Record, frozen=True, kw_only=True):
    """A signal and what came of it; the record that makes idempotency keys survive restarts."""

    signal_id: SignalId
    signal: Signal
    outcome: SignalOutcome
    client_order_ids: tuple[ClientOrderId, ...] = ()
    reason_code: str | None = None
    reason: str | None = None


class OrderCreated(Record, frozen=True, kw_only=True):
    """Passed sizing and risk: the order exists as pending-new and may now be sent."""

    spec: OrderSpec


class OrderDenied(Record, frozen=True, kw_only=True):
    """Refused by our own checks; never sent."""

    spec: OrderSpec
    reason_code: str
    reason: str


class OrderSubmitted(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId


class OrderAccepted(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId
    inferred: bool = False


class OrderRejected(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    reason: str
    inferred: bool = False


class OrderPendingCancel(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId


class OrderCancelRejected(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    reason: str


class OrderCanceled(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    inferred: bool = False
    reason: str | None = None
    """Set when we canceled it ourselves before it was sent (the kill switch engaged)."""


class OrderExpired(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    inferred: bool = False


class OrderPendingReplace(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    quantity: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


class OrderReplaced(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    quantity: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    inferred: bool = False


class OrderReplaceRejected(Record, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    reason: str


class OrderFilled(Record, frozen=True, kw_only=True):
    """One execution. Self-contained so positions fold without looking the order up."""

    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId | None
    fill_id: FillId
    venue: VenueId
    account: AccountId
    strategy: StrategyId
    instrument: InstrumentId
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: LiquiditySide
    multiplier: Decimal = Decimal(1)
    inferred: bool = False


class InternalCross(Record, frozen=True, kw_only=True):
    """Opposite intents of strategies in one account matched inside the engine: every leg's fill
    in one record, so a crash keeps all of them or none."""

    account: AccountId
    instrument: InstrumentId
    price: Decimal
    fills: tuple[OrderFilled, ...]


class IllegalTransition(Record, frozen=True, kw_only=True):
    """A report that the lifecycle table does not allow; recorded and alerted, never applied."""

    client_order_id: ClientOrderId
    status: OrderStatus
    attempted: str
    detail: str


class OrderModifyDenied(Record, frozen=True, kw_only=True):
    """An amend refused by our own checks; the order is unchanged and nothing was sent."""

    client_order_id: ClientOrderId
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    reason_code: str
    reason: str


class VenueRequestRetried(Record, frozen=True, kw_only=True):
    """The venue (or our rate budget for it) refused a request as busy without acting on it; it
    will be tried again after `delay`. Changes no state: the audit trail of a bounded retry."""

    client_order_id: ClientOrderId
    request: Literal["submit", "cancel", "modify"]
    attempt: int
    """The try that was refused, from 1."""
    reason: str
    delay: timedelta


class TradingStateChanged(Record, frozen=True, kw_only=True):
    """The kill switch at one scope moved. The effective state of an order is the most restrictive
    of the portfolio's, its account's and its strategy's."""

    state: TradingState
    reason: str
    changed_by: str
    scope: str = "portfolio"


class RiskLimitsChanged(Record, frozen=True, kw_only=True):
    """The limits of one scope were replaced, by whom."""

    scope: str
    limits: Limits
    changed_by: str


class TradingDayStarted(Record, frozen=True, kw_only=True):
    """A scope's P&L at the trading-day boundary: the baseline of its daily loss limit."""

    scope: str
    trading_day: date
    baseline_pnl: Decimal


class OrderHeld(Record, frozen=True, kw_only=True):
    """A pending-new order that passed risk while its instrument's session was closed: it waits,
    unsent, and is checked again and sent at `release_at` (see docs/sessions.md). Its status stays
    pending-new; the ledger knows it is held until its status moves on."""

    spec: OrderSpec
    release_at: datetime
    reason: str


class PositionRolledOver(Record, frozen=True, kw_only=True):
    """An account's position carried over a session boundary (the FX 17:00 New York rollover, an
    exchange's close), with the mark it crossed at: the record swap, funding and statements start from."""

    account: AccountId
    instrument: InstrumentId
    venue: VenueId
    quantity: Decimal
    mark_price: Decimal | None
    """The mid at the boundary; None when no quote was known."""
    calendar: str
    session: date
    """The trading date of the session that ended."""
    boundary: datetime


class VenueHealthChanged(Record, frozen=True, kw_only=True):
    """A venue's health or active connection changed (see `domain/health.py`). For the audit trail
    and alerts only: health is not folded into state, because after a restart every venue is
    connected and reconciled afresh, so health from before it says nothing about now."""

    venue: VenueId
    health: VenueHealth
    connection: str
    attempt: int = 0
    reason: str


Command = CancelOrder | ModifyOrder
OrderEvent = (
    OrderCreated
    | OrderDenied
    | OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderPendingCancel
    | OrderCancelRejected
    | OrderCanceled
    | OrderExpired
    | OrderPendingReplace
    | OrderReplaced
    | OrderReplaceRejected
    | OrderFilled
)
JournalRecord = (
    Command
    | OrderEvent
    | SignalHandled
    | IllegalTransition
    | InternalCross
    | OrderModifyDenied
    | VenueRequestRetried
    | TradingStateChanged
    | RiskLimitsChanged
    | TradingDayStarted
    | OrderHeld
    | PositionRolledOver
    | VenueHealthChanged
)

"""What the session scheduler has to do between two instants: a pure function of the state.

`due(t0, t1, ...)` looks at held orders, working DAY orders and positions and says what falls due in
`(t0, t1]`: orders to release at their session's open, DAY orders to expire at their session's close,
positions to flatten before the close and positions carried over a session boundary. The runtime loop
(`runtime/sessions.py`) calls it with the clock's last and current readings and carries the work out;
tests call it with any two instants, without waiting.

Most work is read from the state, not from the window, so it is also found after a restart: a DAY
order is due once its session's close is at or before `t1`, a held order once its open is, and a
position in its flatten window whenever `t1` falls in it. Only rollovers are edges: a boundary in the
window, skipped when the ledger already records this position carried over it.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final

import msgspec

from tradewire.domain.enums import CANCELABLE_STATUSES, OrderStatus, TimeInForce
from tradewire.domain.events import OrderHeld, PositionRolledOver
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.orders import Order
from tradewire.sessions.calendars import ALWAYS_OPEN, SessionCalendar, calendar_for
from tradewire.sessions.policy import SessionPolicy

INSTANT: Final = timedelta(microseconds=1)
MAX_BOUNDARIES: Final = 64
"""A window longer than this many sessions (a very long outage) only rolls the latest ones over."""


class ReleaseHeld(msgspec.Struct, frozen=True, kw_only=True):
    """A held order whose session has opened: check it again and send it."""

    held: OrderHeld


class ExpireDay(msgspec.Struct, frozen=True, kw_only=True):
    """A DAY order still working (or still held) at its session's close."""

    client_order_id: ClientOrderId
    close: datetime
    sent: bool
    """False for a held order: it never left, so it is canceled here without asking the venue."""


class FlattenBeforeClose(msgspec.Struct, frozen=True, kw_only=True):
    """An account's position inside its flatten window: close what no working order closes yet."""

    account: AccountId
    instrument: Instrument
    quantity: Decimal
    """Signed quantity left to close (the position net of working orders that reduce it)."""
    close: datetime


class RollOver(msgspec.Struct, frozen=True, kw_only=True):
    """An account's position carried over a session boundary."""

    account: AccountId
    instrument: Instrument
    quantity: Decimal
    calendar: str
    session: date
    """The trading date of the session that ended."""
    boundary: datetime


Due = ReleaseHeld | ExpireDay | FlattenBeforeClose | RollOver


class PositionAtClose(msgspec.Struct, frozen=True, kw_only=True):
    """What the planner needs to know of an account's position in one instrument."""

    account: AccountId
    instrument: Instrument
    quantity: Decimal
    closing: Decimal
    """Quantity that open orders on the reducing side still work."""


def due(
    t0: datetime,
    t1: datetime,
    *,
    policy: SessionPolicy,
    held: Iterable[OrderHeld],
    orders: Iterable[tuple[Order, Instrument]],
    positions: Iterable[PositionAtClose],
    rollovers: Mapping[tuple[AccountId, InstrumentId], PositionRolledOver],
    venues_expiring_day: frozenset[VenueId],
    instruments: Mapping[tuple[VenueId, InstrumentId], Instrument],
) -> list[Due]:
    """Everything due in `(t0, t1]`, in the order to do it: expiries, releases, flattens, rollovers."""
    work: list[Due] = []
    releases: list[Due] = []
    for order_held in held:
        instrument = instruments[(order_held.spec.venue, order_held.spec.instrument)]
        spec = order_held.spec
        if spec.time_in_force is TimeInForce.DAY:
            close = _day_close(instrument, order_held.ts_event)
            if close is not None and close <= t1:
                work.append(ExpireDay(client_order_id=spec.client_order_id, close=close, sent=False))
                continue
        if order_held.release_at <= t1:
            releases.append(ReleaseHeld(held=order_held))
    work.extend(_expiries(t1, orders, venues_expiring_day))
    work.extend(releases)
    listed = list(positions)
    work.extend(_flattens(t1, policy, listed))
    work.extend(_rollovers(t0, t1, listed, rollovers))
    return work


def _day_close(instrument: Instrument, created_at: datetime) -> datetime | None:
    """A DAY order lasts until the close of the session it was placed in (or, placed while closed,
    of the next one); None when the calendar cannot tell."""
    try:
        return calendar_for(instrument.calendar).next_close(created_at)
    except ValueError:
        return None


def _expiries(
    t1: datetime, orders: Iterable[tuple[Order, Instrument]], venues_expiring_day: frozenset[VenueId]
) -> Iterable[ExpireDay]:
    for order, instrument in orders:
        if order.time_in_force is not TimeInForce.DAY or order.venue in venues_expiring_day:
            continue
        if order.status not in CANCELABLE_STATUSES or order.status is OrderStatus.PENDING_CANCEL:
            continue
        close = _day_close(instrument, order.created_at)
        if close is not None and close <= t1:
            yield ExpireDay(client_order_id=order.client_order_id, close=close, sent=True)


def _flattens(t1: datetime, policy: SessionPolicy, positions: list[PositionAtClose]) -> Iterable[Due]:
    for position in positions:
        minutes = policy.flatten_minutes(position.instrument)
        left = abs(position.quantity) - position.closing
        if minutes is None or left <= 0 or position.instrument.calendar == ALWAYS_OPEN:
            continue
        calendar = calendar_for(position.instrument.calendar)
        if not calendar.is_open(t1):
            continue  # nothing can trade now; the window of the next session will come
        close = calendar.next_close(t1)
        if close - timedelta(minutes=minutes) <= t1:
            signed = left if position.quantity > 0 else -left
            yield FlattenBeforeClose(
                account=position.account, instrument=position.instrument, quantity=signed, close=close
            )


def _rollovers(
    t0: datetime,
    t1: datetime,
    positions: list[PositionAtClose],
    rollovers: Mapping[tuple[AccountId, InstrumentId], PositionRolledOver],
) -> Iterable[Due]:
    boundaries: dict[str, list[tuple[datetime, date]]] = {}
    for position in positions:
        name = position.instrument.calendar
        if not position.quantity or name == ALWAYS_OPEN:
            continue  # crypto trades through: no session boundary to carry a position over
        if name not in boundaries:
            boundaries[name] = session_closes(calendar_for(name), t0, t1)
        last = rollovers.get((position.account, position.instrument.instrument_id))
        for boundary, label in boundaries[name]:
            if last is not None and last.boundary >= boundary:
                continue
            yield RollOver(
                account=position.account,
                instrument=position.instrument,
                quantity=position.quantity,
                calendar=name,
                session=label,
                boundary=boundary,
            )


def session_closes(calendar: SessionCalendar, t0: datetime, t1: datetime) -> list[tuple[datetime, date]]:
    """Each session close in `(t0, t1]` with the trading date of the session it ends (for FX the
    close is the 17:00 New York rollover). Only the latest `MAX_BOUNDARIES` of a long window."""
    closes: list[tuple[datetime, date]] = []
    try:
        close = calendar.next_close(t0)
        while close <= t1:
            session = calendar.session(close - INSTANT)
            closes.append((close, session.label if session is not None else (close - INSTANT).date()))
            del closes[:-MAX_BOUNDARIES]
            close = calendar.next_close(close)
    except ValueError:
        pass  # past the calendar's loaded years: no boundary it can name
    return closes

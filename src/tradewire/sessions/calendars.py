"""Trading-session calendars: when an instrument can trade, and when its trading day ends.

Every function takes and returns timezone-aware UTC datetimes and is a pure function of its argument.
A session is the half-open interval `[open, close)`: a calendar is open at its open and closed at its
close. See docs/sessions.md for the three kinds of calendar and the rules behind them."""

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Final, Protocol
from zoneinfo import ZoneInfo

import msgspec

ALWAYS_OPEN: Final = "24/7"
FOREX: Final = "fx-24x5"

NEW_YORK: Final = ZoneInfo("America/New_York")
FOREX_DAY_END: Final = time(17, 0)
"""FX trading days end (and roll over) at 17:00 New York wall-clock time, in summer and winter."""
FOREX_HOLIDAYS: Final = frozenset({(12, 25), (1, 1)})
"""(month, day) of the FX trading days that do not trade: Christmas Day and New Year's Day."""

DAY: Final = timedelta(days=1)
SATURDAY: Final = 5
MAX_GAP_DAYS: Final = 14
"""No calendar here goes this long without a session."""


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """One trading day: `[open, close)` in UTC, labelled by the date it belongs to."""

    open: datetime
    close: datetime
    label: date
    """The trading date: the exchange's session date, the UTC date for 24/7, the end date for FX."""
    early_close: bool = False
    """The venue closes earlier than on a regular day (e.g. the NYSE at 13:00 after Thanksgiving)."""

    def contains(self, at: datetime) -> bool:
        return self.open <= at < self.close


class SessionCalendar(Protocol):
    """When an instrument trades. Instants are timezone-aware; results are UTC."""

    name: str

    def is_open(self, at: datetime) -> bool: ...

    def session(self, at: datetime) -> Session | None:
        """The session containing `at`, or None while the calendar is closed."""
        ...

    def next_open(self, at: datetime) -> datetime:
        """The earliest instant at or after `at` when the calendar is open: `at` itself when open."""
        ...

    def next_close(self, at: datetime) -> datetime:
        """The close of the session containing `at` when open, else the close of the next session."""
        ...

    def rollover(self, at: datetime) -> datetime | None:
        """The next daily rollover at or after `at`, or None when the calendar has none."""
        ...


def as_utc(at: datetime) -> datetime:
    """`at` in UTC; a naive datetime is a programmer error, since it names no instant."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"session calendars need timezone-aware datetimes, got naive {at.isoformat()}")
    return at.astimezone(UTC)


class AlwaysOpenCalendar:
    """Crypto: always open. Sessions are UTC days, so a DAY order expires at UTC midnight."""

    name = ALWAYS_OPEN

    def is_open(self, at: datetime) -> bool:
        as_utc(at)
        return True

    def session(self, at: datetime) -> Session:
        at = as_utc(at)
        label = at.date()
        start = datetime.combine(label, time(), tzinfo=UTC)
        return Session(open=start, close=start + timedelta(days=1), label=label)

    def next_open(self, at: datetime) -> datetime:
        return as_utc(at)

    def next_close(self, at: datetime) -> datetime:
        return self.session(at).close

    def rollover(self, at: datetime) -> None:
        as_utc(at)


class ForexCalendar:
    """Spot FX: Sunday 17:00 to Friday 17:00 New York, one session per weekday.

    Each session runs from 17:00 New York to 17:00 New York the next day and is labelled by the date it
    ends on, so the week's sessions are labelled Monday to Friday. The daily rollover is each session's
    close. A session whose label is one of `holidays` does not trade. This is our own rule: the FOREX
    calendar of pandas_market_calendars is open on Saturdays, which no FX venue is."""

    name = FOREX

    def __init__(self, holidays: Collection[tuple[int, int]] = FOREX_HOLIDAYS) -> None:
        self._holidays = frozenset(holidays)

    def is_open(self, at: datetime) -> bool:
        return self.session(at) is not None

    def session(self, at: datetime) -> Session | None:
        label = self._label_of(as_utc(at))
        return self._session_labelled(label) if self._trades_on(label) else None

    def next_open(self, at: datetime) -> datetime:
        at = as_utc(at)
        if self.is_open(at):
            return at
        # `at` lies in the window of a label that does not trade, so the next trading label opens later.
        return self._first_session_from(self._label_of(at)).open

    def next_close(self, at: datetime) -> datetime:
        return self._first_session_from(self._label_of(as_utc(at))).close

    def rollover(self, at: datetime) -> datetime:
        at = as_utc(at)
        # The session ending on `at`'s New York date closes at or after `at` unless `at` is past 17:00.
        first_label = at.astimezone(NEW_YORK).date()
        session = self._first_session_from(first_label)
        return session.close if session.close >= at else self._first_session_from(session.label + DAY).close

    def _label_of(self, at: datetime) -> date:
        local = at.astimezone(NEW_YORK)
        return local.date() + DAY if local.time() >= FOREX_DAY_END else local.date()

    def _trades_on(self, label: date) -> bool:
        return label.weekday() < SATURDAY and (label.month, label.day) not in self._holidays

    def _session_labelled(self, label: date) -> Session:
        # 17:00 is never inside a DST gap or fold (those are at 02:00), so the wall clock is unambiguous.
        open_ = datetime.combine(label - DAY, FOREX_DAY_END, tzinfo=NEW_YORK)
        close = datetime.combine(label, FOREX_DAY_END, tzinfo=NEW_YORK)
        return Session(open=open_.astimezone(UTC), close=close.astimezone(UTC), label=label)

    def _first_session_from(self, label: date) -> Session:
        for offset in range(MAX_GAP_DAYS):
            candidate = label + timedelta(days=offset)
            if self._trades_on(candidate):
                return self._session_labelled(candidate)
        raise ValueError(f"no FX session within {MAX_GAP_DAYS} days of {label}: check the holidays")


@cache
def calendar_for(name: str) -> SessionCalendar:
    """The calendar an instrument names in `Instrument.calendar`: "24/7", "fx-24x5" or an
    exchange_calendars code such as "XNYS" or "CMES". Built once per name."""
    if name == ALWAYS_OPEN:
        return AlwaysOpenCalendar()
    if name == FOREX:
        return ForexCalendar()
    # Imported here so that crypto- and FX-only deployments never load pandas.
    from tradewire.sessions.exchange import ExchangeCalendar, is_exchange_code  # noqa: PLC0415

    if not is_exchange_code(name):
        raise ValueError(
            f"unknown session calendar {name!r}: expected {ALWAYS_OPEN!r} (crypto), {FOREX!r} (spot FX) "
            "or an exchange_calendars code such as 'XNYS', 'XLON' or 'CMES' "
            "(exchange_calendars.get_calendar_names() lists them)"
        )
    return ExchangeCalendar(name)

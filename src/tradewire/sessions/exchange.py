"""Exchange calendars (XNYS, XLON, CMES, ...) behind `SessionCalendar`, from the exchange_calendars package.

The package's schedule is read once, over a fixed window of years, into plain sorted lists that are
then searched with `bisect`: lookups never call back into pandas."""

import warnings
from bisect import bisect_right
from datetime import UTC, date, datetime
from typing import Any, Final

# exchange_calendars ships no py.typed marker: everything read from it is checked where it is converted.
import exchange_calendars  # type: ignore[import-untyped]

from tradewire.sessions.calendars import Session, as_utc

WINDOW_START: Final = date(2020, 1, 1)
WINDOW_END: Final = date(2035, 12, 31)
"""Sessions are loaded for these years, narrowed to what the exchange's calendar covers (some end soon:
XSHG, XSES and XBOM stop at 2026-12-31 in exchange_calendars 4.13). Outside it, lookups raise."""

PANDAS_MODULES: Final = r"(pandas|exchange_calendars)\."
"""exchange_calendars 4.13 uses pandas APIs that pandas 3.1 deprecates (tz-aware `Series.values`,
`DatetimeIndex.weekday`, ...) while it builds a calendar: pandas warns with Pandas4Warning, a
DeprecationWarning. Those are ignored around construction only; lookups never call pandas."""


def is_exchange_code(name: str) -> bool:
    names: list[str] = exchange_calendars.get_calendar_names(include_aliases=True)
    return name in names


class ExchangeCalendar:
    """An exchange's sessions, holidays and early closes. A lunch break (e.g. XHKG) counts as closed."""

    def __init__(self, code: str) -> None:
        self.name = code
        self._sessions, self._breaks = _load_sessions(code)
        self._opens = [session.open for session in self._sessions]
        self._closes = [session.close for session in self._sessions]

    def is_open(self, at: datetime) -> bool:
        return self.session(at) is not None

    def session(self, at: datetime) -> Session | None:
        at = as_utc(at)
        index = self._index_of_latest_open(at)
        if index < 0 or not self._sessions[index].contains(at) or self._in_break(index, at):
            return None
        return self._sessions[index]

    def next_open(self, at: datetime) -> datetime:
        at = as_utc(at)
        index = self._index_of_latest_open(at)
        if index >= 0 and self._sessions[index].contains(at):
            lunch = self._breaks[index]
            return lunch[1] if lunch is not None and self._in_break(index, at) else at
        return self._session_at(index + 1).open

    def next_close(self, at: datetime) -> datetime:
        at = as_utc(at)
        self._check_range(at)
        return self._session_at(bisect_right(self._closes, at)).close

    def rollover(self, at: datetime) -> None:
        as_utc(at)

    def _index_of_latest_open(self, at: datetime) -> int:
        """The index of the last session opening at or before `at` (-1 before the first)."""
        self._check_range(at)
        return bisect_right(self._opens, at) - 1

    def _in_break(self, index: int, at: datetime) -> bool:
        lunch = self._breaks[index]
        return lunch is not None and lunch[0] <= at < lunch[1]

    def _check_range(self, at: datetime) -> None:
        if not self._opens[0] <= at < self._closes[-1]:
            raise ValueError(
                f"{at.isoformat()} is outside the {self.name} sessions loaded "
                f"({self._sessions[0].label} to {self._sessions[-1].label})"
            )

    def _session_at(self, index: int) -> Session:
        if index >= len(self._sessions):
            raise ValueError(f"no {self.name} session after {self._sessions[-1].label} is loaded")
        return self._sessions[index]


def _load_sessions(code: str) -> tuple[list[Session], list[tuple[datetime, datetime] | None]]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=PANDAS_MODULES)
        # The calendar class knows how far its rules reach; building the default calendar is how to ask.
        factory = type(exchange_calendars.get_calendar(code))
        start, end = _window(factory.bound_min(), factory.bound_max())
        calendar = exchange_calendars.get_calendar(code, start=start.isoformat(), end=end.isoformat())
        early_closes = {_as_date(label) for label in calendar.early_closes}
        schedule = calendar.schedule
    sessions: list[Session] = []
    breaks: list[tuple[datetime, datetime] | None] = []
    rows = zip(
        schedule.index,
        schedule["open"],
        schedule["close"],
        schedule["break_start"],
        schedule["break_end"],
        schedule["break_start"].notna(),
        strict=True,
    )
    for label, open_, close, break_start, break_end, has_break in rows:
        day = _as_date(label)
        sessions.append(
            Session(open=_as_utc(open_), close=_as_utc(close), label=day, early_close=day in early_closes)
        )
        breaks.append((_as_utc(break_start), _as_utc(break_end)) if has_break else None)
    return sessions, breaks


def _window(bound_min: Any, bound_max: Any) -> tuple[date, date]:
    start = WINDOW_START if bound_min is None else max(WINDOW_START, _as_date(bound_min))
    end = WINDOW_END if bound_max is None else min(WINDOW_END, _as_date(bound_max))
    return start, end


def _as_date(timestamp: Any) -> date:
    """A session label: a naive pandas Timestamp at midnight."""
    value: date = timestamp.date()
    return value


def _as_utc(timestamp: Any) -> datetime:
    value: datetime = timestamp.to_pydatetime()
    return value.astimezone(UTC)

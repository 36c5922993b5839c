"""Trading sessions: when an instrument trades, when its trading day ends, and when FX rolls over."""

from tradewire.sessions.calendars import (
    ALWAYS_OPEN,
    FOREX,
    AlwaysOpenCalendar,
    ForexCalendar,
    Session,
    SessionCalendar,
    calendar_for,
)

__all__ = [
    "ALWAYS_OPEN",
    "FOREX",
    "AlwaysOpenCalendar",
    "ForexCalendar",
    "Session",
    "SessionCalendar",
    "calendar_for",
]

"""Session calendars: the FX week and its DST shifts, exchange holidays and early closes, crypto days."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.sessions import ForexCalendar, Session, calendar_for

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
HONG_KONG = ZoneInfo("Asia/Hong_Kong")
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


def wall(zone: ZoneInfo, year: int, month: int, day: int, hour: int, *, minute: int = 0) -> datetime:
    """A wall-clock time somewhere, as the UTC instant the calendars take."""
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return wall(NEW_YORK, year, month, day, hour, minute=minute)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- FX: Sunday 17:00 to Friday 17:00 New York ---------------------------------------------------------

fx = calendar_for("fx-24x5")


def test_fx_opens_at_sunday_17_00_new_york_and_not_a_minute_before() -> None:
    sunday_open = ny(2026, 1, 4, 17)
    assert fx.is_open(sunday_open)
    assert not fx.is_open(sunday_open - MINUTE)
    assert fx.next_open(sunday_open - MINUTE) == sunday_open


def test_fx_is_closed_all_saturday_in_new_york_and_in_utc() -> None:
    for start in (ny(2026, 1, 10, 0), utc(2026, 1, 10)):
        for quarter in range(24 * 4):
            assert not fx.is_open(start + quarter * timedelta(minutes=15))


def test_fx_closes_at_friday_17_00_new_york() -> None:
    friday_close = ny(2026, 1, 9, 17)
    assert fx.is_open(friday_close - MINUTE)
    assert not fx.is_open(friday_close)
    assert fx.next_close(ny(2026, 1, 9, 9)) == friday_close
    assert fx.next_open(friday_close) == ny(2026, 1, 11, 17)


@pytest.mark.parametrize(
    ("sunday", "previous_friday_close", "sunday_open", "friday_close"),
    [
        # US DST starts Sunday 2026-03-08: the week closes at 22:00 UTC and reopens at 21:00 UTC.
        (date(2026, 3, 8), utc(2026, 3, 6, 22), utc(2026, 3, 8, 21), utc(2026, 3, 13, 21)),
        # US DST ends Sunday 2026-11-01: the week closes at 21:00 UTC and reopens at 22:00 UTC.
        (date(2026, 11, 1), utc(2026, 10, 30, 21), utc(2026, 11, 1, 22), utc(2026, 11, 6, 22)),
    ],
)
def test_fx_boundary_stays_at_17_00_new_york_while_its_utc_hour_moves_with_dst(
    sunday: date, previous_friday_close: datetime, sunday_open: datetime, friday_close: datetime
) -> None:
    assert fx.is_open(previous_friday_close - MINUTE)
    assert not fx.is_open(previous_friday_close)
    assert fx.next_open(previous_friday_close) == sunday_open
    assert not fx.is_open(sunday_open - MINUTE)
    assert fx.is_open(sunday_open)
    monday = fx.session(sunday_open)
    assert monday == Session(open=sunday_open, close=sunday_open + timedelta(days=1), label=sunday + DAY)
    assert fx.next_close(friday_close - MINUTE) == friday_close
    assert not fx.is_open(friday_close)


@pytest.mark.parametrize("monday", [date(2026, 1, 5), date(2026, 3, 9), date(2026, 11, 2)])
def test_fx_rolls_over_at_17_00_new_york_every_weekday(monday: date) -> None:
    for offset in range(5):
        day = monday + offset * DAY
        five_pm = ny(day.year, day.month, day.day, 17)
        assert fx.rollover(ny(day.year, day.month, day.day, 9)) == five_pm
        assert fx.rollover(five_pm) == five_pm
    friday = monday + 4 * DAY
    after_friday_close = ny(friday.year, friday.month, friday.day, 17, 1)
    next_monday = monday + 7 * DAY
    assert fx.rollover(after_friday_close) == ny(next_monday.year, next_monday.month, next_monday.day, 17)


def test_fx_sessions_are_labelled_by_the_date_they_end_on() -> None:
    sunday_evening = fx.session(ny(2026, 1, 4, 18))
    wednesday_afternoon = fx.session(ny(2026, 1, 7, 16, 59))
    wednesday_evening = fx.session(ny(2026, 1, 7, 17))
    assert sunday_evening is not None and sunday_evening.label == date(2026, 1, 5)
    assert wednesday_afternoon is not None and wednesday_afternoon.label == date(2026, 1, 7)
    assert wednesday_evening is not None and wednesday_evening.label == date(2026, 1, 8)
    assert wednesday_evening.open == ny(2026, 1, 7, 17)
    assert wednesday_evening.close == ny(2026, 1, 8, 17)


def test_fx_does_not_trade_on_christmas_or_new_years_day() -> None:
    # 2026-12-25 and 2027-01-01 are Fridays: each week ends on Thursday at 17:00.
    assert not fx.is_open(ny(2026, 12, 25, 3))
    assert fx.next_close(ny(2026, 12, 24, 12)) == ny(2026, 12, 24, 17)
    assert fx.next_open(ny(2026, 12, 24, 17)) == ny(2026, 12, 27, 17)
    assert fx.rollover(ny(2026, 12, 24, 18)) == ny(2026, 12, 28, 17)
    assert not fx.is_open(ny(2027, 1, 1, 12))
    assert ForexCalendar(holidays=()).is_open(ny(2026, 12, 25, 3))


def test_fx_next_open_while_open_is_the_instant_itself() -> None:
    wednesday = ny(2026, 1, 7, 3, 17)
    assert fx.next_open(wednesday) == wednesday


# --- Exchanges: exchange_calendars behind the protocol -----------------------------------------------

nyse = calendar_for("XNYS")


@pytest.mark.parametrize(
    ("day", "open_utc", "close_utc"),
    [
        (date(2026, 3, 6), utc(2026, 3, 6, 14, 30), utc(2026, 3, 6, 21)),  # EST
        (date(2026, 3, 9), utc(2026, 3, 9, 13, 30), utc(2026, 3, 9, 20)),  # EDT
    ],
)
def test_nyse_trades_09_30_to_16_00_new_york_whatever_the_utc_offset(
    day: date, open_utc: datetime, close_utc: datetime
) -> None:
    assert nyse.session(ny(day.year, day.month, day.day, 12)) == Session(
        open=open_utc, close=close_utc, label=day, early_close=False
    )
    assert not nyse.is_open(open_utc - MINUTE)
    assert nyse.is_open(open_utc)
    assert nyse.is_open(close_utc - MINUTE)
    assert not nyse.is_open(close_utc)


def test_nyse_is_closed_on_thanksgiving_and_christmas() -> None:
    for holiday in (ny(2026, 11, 26, 12), ny(2026, 12, 25, 12)):
        assert not nyse.is_open(holiday)
        assert nyse.session(holiday) is None
    assert nyse.next_open(ny(2026, 11, 26, 12)) == ny(2026, 11, 27, 9, 30)


def test_nyse_closes_early_at_13_00_the_day_after_thanksgiving() -> None:
    session = nyse.session(ny(2026, 11, 27, 10))
    assert session is not None
    assert session.close == ny(2026, 11, 27, 13)
    assert session.early_close
    assert nyse.is_open(ny(2026, 11, 27, 12, 59))
    assert not nyse.is_open(ny(2026, 11, 27, 13))
    assert nyse.next_close(ny(2026, 11, 27, 10)) == ny(2026, 11, 27, 13)


def test_nyse_is_closed_at_the_weekend() -> None:
    assert not nyse.is_open(ny(2026, 11, 28, 12))
    assert not nyse.is_open(ny(2026, 11, 29, 12))


def test_nyse_next_open_from_friday_evening_is_monday_09_30() -> None:
    assert nyse.next_open(ny(2026, 3, 6, 18)) == ny(2026, 3, 9, 9, 30)
    assert nyse.next_close(ny(2026, 3, 6, 18)) == ny(2026, 3, 9, 16)


def test_nyse_has_no_rollover() -> None:
    assert nyse.rollover(ny(2026, 3, 9, 12)) is None


def test_cme_futures_open_on_sunday_evening_chicago_time() -> None:
    cme = calendar_for("CMES")
    sunday_evening = wall(CHICAGO, 2026, 1, 11, 17, minute=30)
    assert not cme.is_open(wall(CHICAGO, 2026, 1, 10, 12))
    assert cme.is_open(sunday_evening)
    session = cme.session(sunday_evening)
    assert session is not None and session.label == date(2026, 1, 12)


def test_a_lunch_break_counts_as_closed_until_the_afternoon_open() -> None:
    hong_kong = calendar_for("XHKG")
    lunch = wall(HONG_KONG, 2026, 3, 10, 12, minute=30)
    assert not hong_kong.is_open(lunch)
    assert hong_kong.session(lunch) is None
    assert hong_kong.next_open(lunch) == wall(HONG_KONG, 2026, 3, 10, 13)
    assert hong_kong.next_close(lunch) == wall(HONG_KONG, 2026, 3, 10, 16)


def test_an_instant_outside_the_loaded_years_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the XNYS sessions loaded"):
        nyse.is_open(utc(2040, 1, 2, 15))


def test_exchange_calendars_are_built_once_per_code() -> None:
    assert calendar_for("XNYS") is calendar_for("XNYS")


# --- Crypto: always open, UTC days ---------------------------------------------------------------------

crypto = calendar_for("24/7")


def test_crypto_is_open_at_any_time() -> None:
    for at in (utc(2026, 1, 10), utc(2026, 12, 25, 12), utc(2026, 3, 8, 7, 1)):
        assert crypto.is_open(at)
        assert crypto.next_open(at) == at


def test_crypto_next_close_is_the_end_of_the_utc_day() -> None:
    at = utc(2026, 5, 9, 23, 59)
    assert crypto.next_close(at) == utc(2026, 5, 10)
    assert crypto.session(at) == Session(open=utc(2026, 5, 9), close=utc(2026, 5, 10), label=date(2026, 5, 9))
    assert crypto.rollover(at) is None


# --- Errors -------------------------------------------------------------------------------------------


def test_an_unknown_calendar_name_is_refused_naming_the_accepted_forms() -> None:
    with pytest.raises(ValueError, match=r"'24/7'.*'fx-24x5'.*exchange_calendars code") as raised:
        calendar_for("NASDAQ-ish")
    assert "NASDAQ-ish" in str(raised.value)


@pytest.mark.parametrize("name", ["24/7", "fx-24x5", "XNYS"])
def test_a_naive_datetime_is_refused(name: str) -> None:
    calendar = calendar_for(name)
    naive = datetime(2026, 3, 9, 15)  # noqa: DTZ001  # the point of the test
    for method in (calendar.is_open, calendar.session, calendar.next_open, calendar.next_close):
        with pytest.raises(ValueError, match="timezone-aware"):
            method(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.rollover(naive)


def test_an_aware_non_utc_datetime_is_read_as_the_same_instant() -> None:
    assert nyse.next_open(datetime(2026, 3, 6, 18, tzinfo=NEW_YORK)) == ny(2026, 3, 9, 9, 30)


# --- Properties ---------------------------------------------------------------------------------------

INSTANTS_IN_2026 = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001  # hypothesis bounds are naive; timezones= makes them UTC
    max_value=datetime(2026, 12, 31, 23, 59, 59),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@pytest.mark.parametrize("name", ["24/7", "fx-24x5", "XNYS", "XLON", "CMES", "XHKG"])
@settings(deadline=None)  # the first example builds the exchange calendar
@given(at=INSTANTS_IN_2026)
def test_is_open_session_and_next_open_agree(name: str, at: datetime) -> None:
    calendar = calendar_for(name)
    session = calendar.session(at)
    assert calendar.is_open(at) == (session is not None)
    next_open = calendar.next_open(at)
    next_close = calendar.next_close(at)
    assert at <= next_open < next_close
    assert calendar.is_open(next_open)
    if session is not None:
        assert session.open <= at < session.close
        assert next_open == at
        assert next_close == session.close
    else:
        assert not calendar.is_open(next_open - timedelta(microseconds=1))

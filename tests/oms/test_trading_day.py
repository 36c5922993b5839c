"""Trading days: named by the date they end on, turning at a local time (17:00 New York by default)."""

from datetime import UTC, date, datetime, time, timedelta

from tradewire.oms.exposure import TradingDay


def test_the_day_turns_at_the_local_start_time_even_when_asked_within_the_same_minute_before() -> None:
    day = TradingDay(time(17), "America/New_York")
    before = datetime(2026, 11, 24, 21, 59, 59, 999_999, tzinfo=UTC)  # 16:59:59.999999 in New York

    assert day.of(before - timedelta(seconds=30)) == date(2026, 11, 24)
    assert day.of(before) == date(2026, 11, 24)
    assert day.of(before + timedelta(microseconds=1)) == date(2026, 11, 25)
    assert day.of(before - timedelta(seconds=10)) == date(2026, 11, 24)


def test_the_day_follows_daylight_saving_time() -> None:
    day = TradingDay(time(17), "America/New_York")
    # New York moved its clocks back on 2026-11-01: 17:00 is 21:00 UTC before, 22:00 UTC after.
    assert day.of(datetime(2026, 10, 30, 21, 0, tzinfo=UTC)) == date(2026, 10, 31)
    assert day.of(datetime(2026, 11, 2, 21, 0, tzinfo=UTC)) == date(2026, 11, 2)
    assert day.of(datetime(2026, 11, 2, 22, 0, tzinfo=UTC)) == date(2026, 11, 3)


def test_a_midnight_start_names_the_day_by_its_own_date() -> None:
    day = TradingDay(time(0), "UTC")
    assert day.of(datetime(2026, 11, 24, 23, 59, tzinfo=UTC)) == date(2026, 11, 24)
    assert day.of(datetime(2026, 11, 25, 0, 0, tzinfo=UTC)) == date(2026, 11, 25)

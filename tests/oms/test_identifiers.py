"""Client order IDs and event IDs: the run stamp and a counter, in base 36, never repeated."""

from datetime import UTC, datetime, timedelta

from tradewire.oms.identifiers import IdGenerator, base36

STARTED = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def test_base36_writes_every_number_with_no_leading_zero() -> None:
    numbers = [*range(3000), *(36**power + step for power in range(1, 12) for step in (-1, 0, 1))]
    for number in numbers:
        text = base36(number)
        assert int(text, 36) == number
        assert text == "0" or not text.startswith("0")


def test_ids_are_the_run_stamp_and_a_counter_across_every_digit_boundary() -> None:
    ids = IdGenerator(STARTED)
    stamp = base36(int(STARTED.timestamp() * 1000))

    orders = [ids.client_order_id() for _ in range(50_000)]

    assert orders == [f"TW{stamp}-{base36(n)}" for n in range(1, 50_001)]
    assert ids.event_id() == f"E{stamp}-1"
    assert ids.signal_id() == f"S{stamp}-1"


def test_a_later_run_never_repeats_an_id_of_an_earlier_one() -> None:
    first, second = IdGenerator(STARTED), IdGenerator(STARTED + timedelta(milliseconds=1))

    earlier = {first.client_order_id() for _ in range(2_000)} | {first.event_id() for _ in range(2_000)}
    later = {second.client_order_id() for _ in range(2_000)} | {second.event_id() for _ in range(2_000)}

    assert len(earlier) == len(later) == 4_000
    assert not earlier & later

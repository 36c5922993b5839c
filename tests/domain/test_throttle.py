"""The pure pacing arithmetic: GCRA never admits more than its budget in any window, admits again
exactly when it says, treats several limits as one all-or-nothing decision; and the retry backoff."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.domain.throttle import MICROSECONDS, RateLimit, RetryPolicy, admit

limits = st.builds(
    RateLimit,
    requests=st.integers(1, 50),
    seconds=st.sampled_from([Decimal("0.1"), Decimal("1"), Decimal("2.5"), Decimal("60")]),
    burst=st.none() | st.integers(1, 20),
)
# Arrival gaps in microseconds: many together, some spread out.
gaps = st.lists(st.integers(0, 3 * MICROSECONDS) | st.just(0), min_size=1, max_size=120)


def run(limit_list: list[RateLimit], arrival_gaps: list[int], costs: list[int]) -> list[tuple[int, int]]:
    """Offer a request at each arrival; the (time, cost) of those admitted."""
    tats = [0] * len(limit_list)
    now = 10 * MICROSECONDS
    admitted = []
    for gap, cost in zip(arrival_gaps, costs, strict=False):
        now += gap
        admission = admit(limit_list, tats, now, cost)
        if admission.wait_us == 0:
            tats = list(admission.tats)
            admitted.append((now, cost))
    return admitted


def assert_within_budget(limit: RateLimit, admitted: list[tuple[int, int]]) -> None:
    """For every window [t_i, t_j] between two admissions: cost admitted <= burst + rate * length."""
    for i, (start, _) in enumerate(admitted):
        total = 0
        for end, cost in admitted[i:]:
            total += cost
            length = Decimal(end - start) / MICROSECONDS
            assert total <= limit.capacity + length * limit.requests / limit.seconds, (start, end, total)


@given(limits, gaps)
def test_no_window_ever_holds_more_than_the_budget(limit: RateLimit, arrival_gaps: list[int]) -> None:
    admitted = run([limit], arrival_gaps, [1] * len(arrival_gaps))
    assert admitted, "the first request always passes"
    assert_within_budget(limit, admitted)


@given(st.lists(limits, min_size=2, max_size=3), gaps, st.data())
def test_several_limits_and_costs_each_hold(
    limit_list: list[RateLimit], arrival_gaps: list[int], data: st.DataObject
) -> None:
    largest = min(limit.capacity for limit in limit_list)
    costs = data.draw(
        st.lists(st.integers(1, largest), min_size=len(arrival_gaps), max_size=len(arrival_gaps))
    )
    admitted = run(limit_list, arrival_gaps, costs)
    for limit in limit_list:
        assert_within_budget(limit, admitted)


@given(limits, st.integers(1, 40), st.integers(0, 5 * MICROSECONDS))
def test_a_refused_request_passes_exactly_after_the_wait_it_was_given(
    limit: RateLimit, requests: int, later: int
) -> None:
    tats = [0]
    now = MICROSECONDS
    refused = None
    for _ in range(requests):
        admission = admit([limit], tats, now)
        if admission.wait_us:
            refused = admission
            break
        tats = list(admission.tats)
    if refused is None:
        return
    assert refused.tats == tuple(tats), "a refusal changes nothing"
    assert admit([limit], tats, now + refused.wait_us - 1).wait_us > 0
    assert admit([limit], tats, now + refused.wait_us + later).wait_us == 0


def test_a_burst_passes_at_once_then_the_sustained_rate_applies() -> None:
    limit = RateLimit(requests=10, seconds=Decimal(1), burst=3)
    tats = [0]
    now = MICROSECONDS
    for _ in range(3):
        admission = admit([limit], tats, now)
        assert admission.wait_us == 0
        tats = list(admission.tats)
    assert admit([limit], tats, now).wait_us == MICROSECONDS // 10


def test_one_spent_limit_refuses_the_request_under_every_limit() -> None:
    per_second = RateLimit(requests=100, seconds=Decimal(1))
    per_minute = RateLimit(requests=1, seconds=Decimal(60))
    first = admit([per_second, per_minute], [0, 0], MICROSECONDS)
    second = admit([per_second, per_minute], first.tats, MICROSECONDS)
    assert first.wait_us == 0
    assert second.wait_us == 60 * MICROSECONDS
    assert second.tats == first.tats


def test_a_request_costing_more_than_the_burst_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="can never pass 5per1s"):
        admit([RateLimit(requests=5, seconds=Decimal(1))], [0], 0, cost=6)


def test_a_limit_needs_positive_numbers() -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        RateLimit(requests=0, seconds=Decimal(1))


def test_labels_name_the_limit() -> None:
    assert RateLimit(requests=1200, seconds=Decimal("60")).label == "1200per60s"
    assert RateLimit(requests=10, seconds=Decimal("0.5"), burst=2).label == "10per0.5s-b2"


# --- backoff ---


def test_backoff_doubles_within_its_jitter_and_stops_at_the_cap() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.1, max_delay=0.5)
    assert [policy.delay(n, None, 0.0) for n in (1, 2, 3, 4)] == [0.05, 0.1, 0.2, 0.25]
    assert [policy.delay(n, None, 0.999999) for n in (1, 4)] == pytest.approx([0.1, 0.5], rel=1e-5)


def test_no_retry_after_the_last_attempt() -> None:
    policy = RetryPolicy(attempts=3)
    assert policy.delay(2, None, 0.5) is not None
    assert policy.delay(3, None, 0.5) is None


def test_the_venues_retry_after_is_used_unless_it_is_too_long() -> None:
    policy = RetryPolicy(attempts=5, max_delay=2.0)
    assert policy.delay(1, 1.5, 0.9) == 1.5
    assert policy.delay(1, 30.0, 0.9) is None

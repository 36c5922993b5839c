import random
from datetime import timedelta

import pytest

from tests.factories import T0
from tradewire.domain import health
from tradewire.domain.health import VenueHealth, VenueHealthBoard, VenueStatus, backoff_delay
from tradewire.domain.ids import VenueId

PAPER = VenueId("paper")
LATER = T0 + timedelta(seconds=5)


def connected(on_backup: bool = False) -> VenueStatus:
    """A venue that connected and reconciled, on the primary or a backup connection."""
    status = health.not_connected(PAPER, "primary", T0)
    if on_backup:
        status = health.failed_over(status, "backup-1", True, 5, T0)
    return health.reconciled(health.connection_up(status, T0), T0, clean=True, degraded_after_timeouts=3)


def test_without_jitter_the_delay_doubles_per_attempt_up_to_the_cap() -> None:
    delays = [backoff_delay(n, base=0.5, cap=5, jitter=False, draw=0.99) for n in range(1, 8)]

    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_full_jitter_waits_the_drawn_share_of_the_capped_ceiling() -> None:
    draws = random.Random(42)
    delays = [backoff_delay(n, base=1, cap=8, jitter=True, draw=draws.random()) for n in range(1, 7)]
    ceilings = [1, 2, 4, 8, 8, 8]

    replayed = random.Random(42)
    assert delays == [ceiling * replayed.random() for ceiling in ceilings], "the same seed, the same waits"
    assert all(0 <= delay < ceiling for delay, ceiling in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays), "jittered, not the ceiling itself"


def test_a_huge_attempt_number_stays_at_the_cap() -> None:
    assert backoff_delay(10_000, base=0.5, cap=30, jitter=False, draw=0) == 30


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="attempt must be 1 or more"):
        backoff_delay(0, base=1, cap=2, jitter=False, draw=0)


def test_a_venue_not_connected_yet_refuses_orders_until_it_connects_and_reconciles() -> None:
    status = health.not_connected(PAPER, "primary", T0)

    assert status.health is VenueHealth.DOWN and not status.accepts_orders
    assert status.refusal() == (
        "venue paper is not connected yet; orders resume after it connects and reconciles"
    )


def test_a_reconnecting_venue_says_which_attempt_and_when_orders_resume() -> None:
    status = health.reconnecting(health.connection_lost(connected(), LATER), 3, LATER, "refused")

    assert status.health is VenueHealth.DOWN
    assert status.refusal() == "venue paper is reconnecting (attempt 3); orders resume after it reconciles"
    assert "attempt 2 failed: refused" in status.reason


def test_a_venue_reconnecting_on_a_backup_names_it() -> None:
    status = health.failed_over(health.connection_lost(connected(), T0), "backup-1", True, 5, LATER)

    assert status.refusal() == (
        "venue paper is reconnecting (attempt 1 on backup connection backup-1); "
        "orders resume after it reconciles"
    )
    assert "primary failed 5 reconnect attempts" in status.reason


def test_a_connection_that_comes_up_reconciles_before_orders_flow() -> None:
    status = health.connection_up(health.connection_lost(connected(), T0), LATER)

    assert status.health is VenueHealth.RECONCILING and status.attempt == 0
    assert status.refusal() == (
        "venue paper is reconciling after it connected; orders resume after it reconciles"
    )


def test_reconciled_on_the_primary_is_connected_and_on_a_backup_degraded() -> None:
    assert connected().health is VenueHealth.CONNECTED
    on_backup = connected(on_backup=True)
    assert on_backup.health is VenueHealth.DEGRADED
    assert on_backup.accepts_orders and on_backup.refusal() is None
    assert on_backup.reason == "running on backup connection backup-1"


def test_a_failed_reconciliation_after_a_connect_keeps_orders_waiting() -> None:
    reconciling = health.connection_up(health.not_connected(PAPER, "primary", T0), T0)

    failed = health.reconciliation_error(reconciling, "timed out", LATER)

    assert failed.health is VenueHealth.RECONCILING and not failed.accepts_orders
    assert failed.last_reconciliation == "failed: timed out"


def test_a_failed_periodic_reconciliation_degrades_a_connected_venue_until_one_succeeds() -> None:
    failed = health.reconciliation_error(connected(), "venue said 500", LATER)

    assert failed.health is VenueHealth.DEGRADED and failed.accepts_orders
    assert failed.reason == "the last reconciliation failed: venue said 500"
    again = health.reconciled(failed, LATER, clean=True, degraded_after_timeouts=3)
    assert again.health is VenueHealth.CONNECTED and again.last_reconciliation == "clean"


def test_timeouts_in_a_row_degrade_and_an_answer_restores() -> None:
    status = connected()
    for _ in range(2):
        status = health.request_timed_out(status, LATER, degraded_after_timeouts=3)
    assert status.health is VenueHealth.CONNECTED
    status = health.request_timed_out(status, LATER, degraded_after_timeouts=3)
    assert status.health is VenueHealth.DEGRADED and status.reason == "3 venue requests timed out in a row"

    restored = health.request_answered(status, LATER, degraded_after_timeouts=3)

    assert restored.health is VenueHealth.CONNECTED and restored.timeouts == 0


def test_the_change_time_moves_only_when_the_health_or_connection_changes() -> None:
    lost = health.connection_lost(connected(), T0)
    still_down = health.reconnecting(lost, 2, LATER, "refused")
    switched = health.failed_over(still_down, "backup-1", True, 2, LATER)

    assert (lost.since, still_down.since, switched.since) == (T0, T0, LATER)


def test_the_board_lets_orders_go_to_a_venue_it_does_not_supervise() -> None:
    board = VenueHealthBoard()
    board.set(health.connection_lost(connected(), T0))

    assert not board.accepts_orders(PAPER)
    assert board.accepts_orders(VenueId("elsewhere"))
    assert [s.venue for s in board] == [PAPER]

"""The venue-health check: no new order to a venue that is down, reconnecting or reconciling."""

from decimal import Decimal

from tests.factories import ES, T0
from tests.risk.fakes import FakeRiskView, facts_of
from tradewire.domain import health
from tradewire.domain.enums import Side
from tradewire.domain.health import VenueStatus
from tradewire.domain.limits import LimitBook, Limits, Scope, ScopeKind
from tradewire.risk.checks import VENUE_NOT_READY, check_venue_health
from tradewire.risk.gate import RiskGate

VENUE = ES.venue


def reconnecting(attempt: int) -> VenueStatus:
    lost = health.connection_lost(health.not_connected(VENUE, "primary", T0), T0)
    return health.reconnecting(lost, attempt, T0, "connection refused")


def reconciled_on_backup() -> VenueStatus:
    status = health.failed_over(health.not_connected(VENUE, "primary", T0), "backup-1", True, 5, T0)
    return health.reconciled(health.connection_up(status, T0), T0, clean=True, degraded_after_timeouts=3)


def test_an_order_to_a_reconnecting_venue_is_denied_with_the_attempt() -> None:
    view = FakeRiskView()
    view.venue_statuses[VENUE] = reconnecting(3)

    denial = check_venue_health(facts_of(), view)

    assert denial is not None and denial.code == VENUE_NOT_READY == "venue_not_ready"
    assert denial.reason == f"venue {VENUE} is reconnecting (attempt 3); orders resume after it reconciles"


def test_an_order_to_a_reconciling_venue_is_denied() -> None:
    view = FakeRiskView()
    view.venue_statuses[VENUE] = health.connection_up(reconnecting(2), T0)

    denial = check_venue_health(facts_of(), view)

    assert denial is not None and "is reconciling" in denial.reason


def test_a_degraded_venue_still_takes_orders() -> None:
    view = FakeRiskView()
    view.venue_statuses[VENUE] = reconciled_on_backup()

    assert check_venue_health(facts_of(), view) is None


def test_a_venue_nobody_supervises_takes_orders() -> None:
    assert check_venue_health(facts_of(), FakeRiskView()) is None


def test_the_gate_denies_even_a_reduce_only_order_to_a_venue_that_is_down_and_takes_no_token() -> None:
    gate, view = RiskGate(), FakeRiskView().hold("account:acct-1", "5")
    view.venue_statuses[VENUE] = reconnecting(1)
    limits = LimitBook().with_limits(
        Scope(ScopeKind.ACCOUNT, "acct-1"), Limits(max_orders_per_second=Decimal(1), order_burst=1)
    )
    order = facts_of(side=Side.SELL, reduce_only=True)  # sells 1 of a long 5

    denial = gate.check(order, limits, view)

    assert denial is not None and denial.code == VENUE_NOT_READY
    del view.venue_statuses[VENUE]
    assert gate.check(order, limits, view) is None, "the denied order took no token from the bucket"

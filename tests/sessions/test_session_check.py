"""The risk gate's session check: an order for an instrument whose session is closed never reaches the
venue, and the denial says when the session opens."""

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from tests.factories import BTCUSDT, EURUSD
from tests.risk.fakes import FakeRiskView, facts_of
from tests.sessions.test_schedule import AAPL
from tradewire.domain.enums import Side
from tradewire.domain.limits import LimitBook, Limits, Scope, ScopeKind
from tradewire.domain.market import QuoteBook
from tradewire.oms.exposure import LedgerRiskView
from tradewire.oms.ledger import Ledger
from tradewire.risk.checks import SESSION_CLOSED, check_session
from tradewire.risk.gate import RiskGate
from tradewire.risk.view import SessionState
from tradewire.sessions.policy import SessionPolicy

THANKSGIVING_NOON = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def ledger_view(policy: SessionPolicy | None = None) -> LedgerRiskView:
    return LedgerRiskView(
        ledger=Ledger(),
        quotes=QuoteBook(),
        instruments={i.instrument_id: i for i in (AAPL, EURUSD, BTCUSDT)},
        account_currencies={},
        base_currency="USD",
        equivalents={},
        sessions=policy,
    )


def test_an_equity_order_on_thanksgiving_is_denied_with_when_the_exchange_opens() -> None:
    denial = check_session(facts_of(instrument=AAPL, now=THANKSGIVING_NOON), ledger_view())
    assert denial is not None
    assert denial.code == SESSION_CLOSED
    assert denial.reason == "AAPL's session (XNYS) is closed: opens 2026-11-27 14:30 UTC"


def test_a_reduce_only_order_outside_the_session_is_denied_too() -> None:
    facts = facts_of(instrument=AAPL, now=THANKSGIVING_NOON, side=Side.SELL, reduce_only=True)
    assert check_session(facts, ledger_view()) is not None


def test_fx_on_a_saturday_is_denied_until_sunday_17_00_new_york() -> None:
    denial = check_session(facts_of(instrument=EURUSD, now=SATURDAY), ledger_view())
    assert denial is not None
    assert denial.reason == "EUR/USD's session (fx-24x5) is closed: opens 2026-11-29 22:00 UTC"


def test_crypto_trades_on_saturdays_and_on_thanksgiving() -> None:
    for now in (SATURDAY, THANKSGIVING_NOON):
        assert check_session(facts_of(instrument=BTCUSDT, now=now), ledger_view()) is None


def test_an_order_inside_the_early_close_session_passes_and_after_it_is_denied() -> None:
    view = ledger_view()
    assert (
        check_session(facts_of(instrument=AAPL, now=datetime(2026, 11, 27, 17, 59, tzinfo=UTC)), view) is None
    )
    denial = check_session(facts_of(instrument=AAPL, now=datetime(2026, 11, 27, 18, 0, tzinfo=UTC)), view)
    assert denial is not None and denial.reason.endswith("opens 2026-11-30 14:30 UTC")


def test_sessions_not_enforced_let_everything_through() -> None:
    view = ledger_view(SessionPolicy(enforce=False))
    assert check_session(facts_of(instrument=AAPL, now=THANKSGIVING_NOON), view) is None


def test_an_unknown_calendar_fails_closed_and_says_why() -> None:
    odd = msgspec.structs.replace(AAPL, calendar="XNOPE")
    denial = check_session(facts_of(instrument=odd, now=THANKSGIVING_NOON), ledger_view())
    assert denial is not None and "unknown session calendar 'XNOPE'" in denial.reason


def test_the_gate_reports_a_broken_limit_before_a_closed_session() -> None:
    """The session is checked last, so a denial for a closed session means every other check passed
    (which is what makes holding such an order for the open safe)."""
    view = FakeRiskView()
    view.sessions[AAPL.instrument_id] = SessionState(calendar="XNYS", open=False, next_open=None)
    limits = LimitBook().with_limits(Scope(ScopeKind.PORTFOLIO), Limits(max_order_quantity=Decimal(5)))
    big = facts_of(instrument=AAPL, quantity="10", reference="190")
    small = facts_of(instrument=AAPL, quantity="1", reference="190")
    gate = RiskGate()
    big_denial, small_denial = gate.check(big, limits, view), gate.check(small, limits, view)
    assert big_denial is not None and big_denial.code == "order_quantity_limit"
    assert small_denial is not None and small_denial.code == SESSION_CLOSED

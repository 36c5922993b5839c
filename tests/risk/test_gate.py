"""The gate: every scope an order belongs to is checked on its own, and rate buckets take a token
only from an order that passes everything."""

from datetime import timedelta
from decimal import Decimal

from tests.factories import ES, T0, make_created, make_filled, make_spec
from tests.risk.fakes import FakeRiskView, facts_of
from tradewire.domain.enums import Side, TradingState
from tradewire.domain.ids import AccountId, StrategyId
from tradewire.domain.limits import PORTFOLIO, LimitBook, Limits, Scope, ScopeKind
from tradewire.domain.market import QuoteBook
from tradewire.oms.exposure import LedgerRiskView
from tradewire.oms.ledger import Ledger
from tradewire.risk.gate import RiskGate

ACCOUNT_1 = Scope(ScopeKind.ACCOUNT, "acct-1")
ACCOUNT_2 = Scope(ScopeKind.ACCOUNT, "acct-2")
STRATEGY = Scope(ScopeKind.STRATEGY, "trend-1")
VENUE = Scope(ScopeKind.VENUE, "paper")


def limit_book(scopes: dict[Scope, Limits]) -> LimitBook:
    result = LimitBook()
    for scope, limits in scopes.items():
        result = result.with_limits(scope, limits)
    return result


def position_limit(quantity: str) -> Limits:
    return Limits(max_position_quantity=Decimal(quantity))


# --- each scope on its own ---


def test_an_account_limit_denies_that_account_and_names_it() -> None:
    gate, view = RiskGate(), FakeRiskView().hold("account:acct-1", "8")
    limits = limit_book({ACCOUNT_1: position_limit("10")})
    denial = gate.check(facts_of(quantity="3", account="acct-1"), limits, view)
    assert denial is not None and denial.code == "position_limit"
    assert denial.reason == "position 8 + working buy 0 + order 3 > limit 10 ESH6, account:acct-1"


def test_an_account_limit_does_not_affect_another_account() -> None:
    gate, view = RiskGate(), FakeRiskView().hold("account:acct-1", "8")
    limits = limit_book({ACCOUNT_1: position_limit("10")})
    assert gate.check(facts_of(quantity="3", account="acct-2"), limits, view) is None


def test_a_strategy_limit_applies_whatever_account_the_order_is_for() -> None:
    gate, view = RiskGate(), FakeRiskView().hold("strategy:trend-1", "8")
    limits = limit_book({STRATEGY: position_limit("10")})
    for account in ("acct-1", "acct-2", "acct-3"):
        denial = gate.check(facts_of(quantity="3", account=account), limits, view)
        assert denial is not None and denial.reason.endswith("strategy:trend-1")
    assert gate.check(facts_of(quantity="3", strategy="other"), limits, view) is None


def test_a_venue_limit_applies_to_every_account_at_the_venue() -> None:
    gate, view = RiskGate(), FakeRiskView()
    view.open_counts["venue:paper"] = 5
    limits = limit_book({VENUE: Limits(max_open_orders=5)})
    denial = gate.check(facts_of(account="acct-9"), limits, view)
    assert denial is not None and denial.code == "open_orders_limit"
    assert denial.reason == "open orders 5 + this order > limit 5, venue:paper"


def test_a_portfolio_limit_applies_to_every_account_and_strategy() -> None:
    gate, view = RiskGate(), FakeRiskView().hold("portfolio", "9")
    limits = limit_book({PORTFOLIO: position_limit("10"), ACCOUNT_2: position_limit("1000")})
    denial = gate.check(facts_of(quantity="2", account="acct-2", strategy="other"), limits, view)
    assert denial is not None and denial.reason.endswith(", portfolio")


def test_a_loose_limit_at_one_scope_does_not_relax_a_tight_one_at_another() -> None:
    gate, view = RiskGate(), FakeRiskView()
    limits = limit_book(
        {PORTFOLIO: Limits(max_order_quantity=Decimal(100)), ACCOUNT_1: Limits(max_order_quantity=Decimal(2))}
    )
    denial = gate.check(facts_of(quantity="3"), limits, view)
    assert denial is not None and denial.reason == "order quantity 3 > limit 2 ESH6, account:acct-1"


def test_a_halted_venue_denies_an_order_every_other_scope_would_pass() -> None:
    gate, view = RiskGate(), FakeRiskView()
    view.states["venue:paper"] = TradingState.HALTED
    denial = gate.check(facts_of(), LimitBook(), view)
    assert denial is not None and denial.code == "trading_halted"
    assert "venue:paper" in denial.reason


def test_a_halted_strategy_does_not_stop_another_strategy() -> None:
    gate, view = RiskGate(), FakeRiskView()
    view.states["strategy:trend-1"] = TradingState.HALTED
    assert gate.check(facts_of(strategy="mean-revert"), LimitBook(), view) is None


def test_reduce_only_is_checked_at_the_account_before_any_limit() -> None:
    gate, view = RiskGate(), FakeRiskView().hold("strategy:trend-1", "5")
    limits = limit_book({PORTFOLIO: Limits(max_order_quantity=Decimal(0))})
    denial = gate.check(facts_of(side=Side.SELL, reduce_only=True), limits, view)
    assert denial is not None and denial.code == "reduce_only_would_increase"
    assert denial.reason.endswith("account:acct-1")


def test_a_reducing_order_passes_position_limits_exceeded_at_every_scope() -> None:
    gate, view = RiskGate(), FakeRiskView()
    for scope in ("portfolio", "account:acct-1", "strategy:trend-1", "venue:paper"):
        view.hold(scope, "50")
    tight = position_limit("10")
    limits = limit_book({PORTFOLIO: tight, ACCOUNT_1: tight, STRATEGY: tight, VENUE: tight})
    assert gate.check(facts_of(side=Side.SELL, quantity="20"), limits, view) is None
    denial = gate.check(facts_of(side=Side.BUY, quantity="1"), limits, view)
    assert denial is not None and denial.reason.endswith(", portfolio")


def test_new_limits_apply_to_the_next_order_through_the_same_gate() -> None:
    gate, view = RiskGate(), FakeRiskView().hold("account:acct-1", "8")
    loose = limit_book({ACCOUNT_1: position_limit("100")})
    assert gate.check(facts_of(quantity="3"), loose, view) is None

    tight = loose.with_limits(ACCOUNT_1, position_limit("10"))
    denial = gate.check(facts_of(quantity="3"), tight, view)
    assert denial is not None and denial.code == "position_limit"

    lifted = tight.with_limits(ACCOUNT_1, Limits())
    assert gate.check(facts_of(quantity="3"), lifted, view) is None


def test_a_rate_limit_removed_and_set_again_starts_a_fresh_bucket() -> None:
    gate, view = RiskGate(), FakeRiskView()
    one_a_second = limit_book({ACCOUNT_1: Limits(max_orders_per_second=Decimal(1))})
    assert gate.check(facts_of(), one_a_second, view) is None
    denial = gate.check(facts_of(), one_a_second, view)
    assert denial is not None and denial.code == "order_rate_limit"

    assert gate.check(facts_of(), LimitBook(), view) is None
    assert gate.check(facts_of(), one_a_second, view) is None


# --- the risk view over the ledger aggregates scopes the way the gate relies on ---


def _ledger_with_fills(fills: list[tuple[str, str, str]]) -> LedgerRiskView:
    """Fills of (account, strategy, signed quantity) in ES."""
    ledger = Ledger()
    for index, (account, strategy, quantity) in enumerate(fills):
        signed = Decimal(quantity)
        spec = make_spec(
            client_order_id=f"fill-order-{index}",
            account=AccountId(account),
            strategy=StrategyId(strategy),
            side=Side.BUY if signed > 0 else Side.SELL,
            quantity=str(abs(signed)),
        )
        ledger.apply(make_created(spec))
        ledger.apply(make_filled(spec, quantity=str(abs(signed)), price="5000"))
    return LedgerRiskView(
        ledger=ledger,
        quotes=QuoteBook(),
        instruments={ES.instrument_id: ES},
        account_currencies={},
        base_currency="USD",
        equivalents={},
    )


def test_a_strategy_position_is_the_sum_over_its_accounts() -> None:
    view = _ledger_with_fills([("acct-1", "trend-1", "6"), ("acct-2", "trend-1", "3"), ("acct-2", "x", "50")])
    assert view.position(STRATEGY, ES.instrument_id) == 9
    assert view.position(ACCOUNT_2, ES.instrument_id) == 53
    assert view.position(PORTFOLIO, ES.instrument_id) == 59
    limits = limit_book({STRATEGY: position_limit("10")})
    denial = RiskGate().check(facts_of(quantity="2", account="acct-3"), limits, view)
    assert denial is not None
    assert denial.reason == "position 9 + working buy 0 + order 2 > limit 10 ESH6, strategy:trend-1"


def test_an_account_position_does_not_include_another_account() -> None:
    view = _ledger_with_fills([("acct-1", "trend-1", "9")])
    limits = limit_book({ACCOUNT_2: position_limit("10")})
    assert RiskGate().check(facts_of(quantity="10", account="acct-2"), limits, view) is None


# --- rate limits ---


def _rate(per_second: str, burst: int | None = None) -> Limits:
    return Limits(max_orders_per_second=Decimal(per_second), order_burst=burst)


def test_a_burst_passes_and_the_next_order_is_denied_with_the_rate() -> None:
    gate, view = RiskGate(), FakeRiskView()
    limits = limit_book({ACCOUNT_1: _rate("2", 3)})
    for _ in range(3):
        assert gate.check(facts_of(now=T0), limits, view) is None
    denial = gate.check(facts_of(now=T0), limits, view)
    assert denial is not None and denial.code == "order_rate_limit"
    assert denial.reason == "more than 2 orders a second (burst 3), account:acct-1"


def test_elapsed_time_refills_the_bucket_at_the_rate() -> None:
    gate, view = RiskGate(), FakeRiskView()
    limits = limit_book({PORTFOLIO: _rate("2", 2)})
    for _ in range(2):
        assert gate.check(facts_of(now=T0), limits, view) is None
    assert gate.check(facts_of(now=T0 + timedelta(seconds=0.4)), limits, view) is not None
    assert gate.check(facts_of(now=T0 + timedelta(seconds=0.5)), limits, view) is None  # one token back
    assert gate.check(facts_of(now=T0 + timedelta(seconds=0.5)), limits, view) is not None
    later = T0 + timedelta(seconds=60)  # refills to the burst, not beyond it
    assert [gate.check(facts_of(now=later), limits, view) is None for _ in range(3)] == [True, True, False]


def test_the_burst_defaults_to_the_rate() -> None:
    gate, view = RiskGate(), FakeRiskView()
    limits = limit_book({PORTFOLIO: _rate("3")})
    assert [gate.check(facts_of(now=T0), limits, view) is None for _ in range(4)] == [True, True, True, False]


def test_a_denied_order_takes_no_token() -> None:
    gate, view = RiskGate(), FakeRiskView()
    limits = limit_book({PORTFOLIO: Limits(max_orders_per_second=Decimal(1), max_order_quantity=Decimal(5))})
    for _ in range(10):
        denial = gate.check(facts_of(quantity="6", now=T0), limits, view)
        assert denial is not None and denial.code == "order_quantity_limit"
    assert gate.check(facts_of(quantity="5", now=T0), limits, view) is None


def test_an_order_denied_at_a_later_scope_takes_no_token_from_an_earlier_one() -> None:
    gate, view = RiskGate(), FakeRiskView()
    limits = limit_book({PORTFOLIO: _rate("1", 1), STRATEGY: Limits(max_order_quantity=Decimal(1))})
    denial = gate.check(facts_of(quantity="2", now=T0), limits, view)
    assert denial is not None and denial.code == "order_quantity_limit"
    assert gate.check(facts_of(quantity="1", now=T0), limits, view) is None


def test_each_scope_has_its_own_bucket() -> None:
    gate, view = RiskGate(), FakeRiskView()
    limits = limit_book({ACCOUNT_1: _rate("1", 1), ACCOUNT_2: _rate("1", 1)})
    assert gate.check(facts_of(account="acct-1", now=T0), limits, view) is None
    assert gate.check(facts_of(account="acct-2", now=T0), limits, view) is None
    denial = gate.check(facts_of(account="acct-1", now=T0), limits, view)
    assert denial is not None and denial.reason.endswith("account:acct-1")


def test_an_order_takes_a_token_from_every_scope_it_belongs_to() -> None:
    gate, view = RiskGate(), FakeRiskView()
    limits = limit_book({PORTFOLIO: _rate("1", 2), STRATEGY: _rate("1", 2)})
    assert gate.check(facts_of(strategy="trend-1", now=T0), limits, view) is None
    assert gate.check(facts_of(strategy="other", now=T0), limits, view) is None
    denial = gate.check(facts_of(strategy="trend-1", now=T0), limits, view)
    assert denial is not None and denial.reason.endswith(", portfolio")

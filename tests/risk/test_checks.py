"""Each pre-trade check on its own: the reason code, the numbers in the message, the scope it names,
and what happens exactly at the limit. The order is 1 ES (multiplier 50) at 5000 unless a test says
otherwise, so one contract is worth 250000 USD."""

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.factories import T0
from tests.risk.fakes import FakeRiskView, facts_of, quote_of
from tradewire.domain.enums import AssetClass, OrderType, Side, TradingState
from tradewire.domain.limits import PORTFOLIO, Limits, Scope, ScopeKind
from tradewire.risk.checks import (
    check_daily_loss,
    check_exposure,
    check_market,
    check_open_orders,
    check_order_size,
    check_position,
    check_reduce_only,
    check_trading_state,
    reduces_position,
)
from tradewire.risk.view import Exposures

ACCOUNT = Scope(ScopeKind.ACCOUNT, "acct-1")
STRATEGY = Scope(ScopeKind.STRATEGY, "trend-1")
VENUE = Scope(ScopeKind.VENUE, "paper")
FUTURE = AssetClass.FUTURE


def limits(**fields: str | int | dict[AssetClass, Decimal]) -> Limits:
    """Limits with numbers given as strings (Decimal from str) or ints (counts)."""
    converted = {name: Decimal(value) if isinstance(value, str) else value for name, value in fields.items()}
    return Limits(**converted)  # type: ignore[arg-type]


# --- the kill switch state ---


def test_a_halted_scope_denies_every_order_and_names_itself() -> None:
    view = FakeRiskView()
    view.states["account:acct-1"] = TradingState.HALTED
    view.hold("account:acct-1", "5")
    denial = check_trading_state(facts_of(side=Side.SELL, quantity="1"), ACCOUNT, view)
    assert denial is not None and denial.code == "trading_halted"
    assert denial.reason == "trading is halted by the kill switch at account:acct-1; only cancels pass"


def test_a_halted_scope_does_not_deny_at_another_scope() -> None:
    view = FakeRiskView()
    view.states["account:acct-2"] = TradingState.HALTED
    assert check_trading_state(facts_of(), ACCOUNT, view) is None


def test_a_reducing_scope_denies_an_order_that_grows_the_position_with_the_numbers() -> None:
    view = FakeRiskView().hold("strategy:trend-1", "3").hold("account:acct-1", "3")
    view.states["strategy:trend-1"] = TradingState.REDUCING
    denial = check_trading_state(facts_of(side=Side.BUY, quantity="1"), STRATEGY, view)
    assert denial is not None and denial.code == "trading_reducing"
    assert denial.reason == (
        "strategy:trend-1 is reducing only, and this buy of 1 ESH6 would not reduce the position 3 "
        "of strategy:trend-1 in account acct-1"
    )


def test_a_reducing_strategy_must_also_reduce_its_own_position_not_only_the_accounts() -> None:
    """The account is long 3 through another strategy; this strategy is flat: selling would reduce
    the account but open a short for the strategy that is supposed to be reducing."""
    view = FakeRiskView().hold("account:acct-1", "3")
    view.states["strategy:trend-1"] = TradingState.REDUCING
    denial = check_trading_state(facts_of(side=Side.SELL, quantity="1"), STRATEGY, view)
    assert denial is not None
    assert denial.reason.endswith("would not reduce the position 0 of strategy:trend-1 in account acct-1")


def test_a_reducing_strategy_may_reduce_its_own_position_in_an_account_another_strategy_offsets() -> None:
    """The strategy is long 3 and the account flat (another strategy is short 3): selling 3 closes
    the strategy's position; what it does to the account is for the account's state and limits."""
    view = FakeRiskView().hold("strategy:trend-1", "3")
    view.states["strategy:trend-1"] = TradingState.REDUCING
    assert check_trading_state(facts_of(side=Side.SELL, quantity="3"), STRATEGY, view) is None
    denial = check_trading_state(facts_of(side=Side.SELL, quantity="4"), STRATEGY, view)
    assert denial is not None and denial.code == "trading_reducing"


def test_reducing_at_the_portfolio_judges_the_orders_own_account() -> None:
    view = FakeRiskView().hold("portfolio", "10")  # held elsewhere; this account is flat
    view.states["portfolio"] = TradingState.REDUCING
    denial = check_trading_state(facts_of(side=Side.SELL, quantity="1"), PORTFOLIO, view)
    assert denial is not None
    assert denial.reason.endswith("would not reduce the position 0 of account:acct-1")


@pytest.mark.parametrize(
    ("position", "side", "quantity"),
    [("3", Side.SELL, "3"), ("3", Side.SELL, "1"), ("-3", Side.BUY, "3")],
)
def test_a_reducing_scope_lets_an_order_that_only_shrinks_the_position_pass(
    position: str, side: Side, quantity: str
) -> None:
    view = FakeRiskView().hold("account:acct-1", position)
    view.states["account:acct-1"] = TradingState.REDUCING
    assert check_trading_state(facts_of(side=side, quantity=quantity), ACCOUNT, view) is None


def test_a_reducing_scope_denies_an_order_that_would_flip_the_position() -> None:
    view = FakeRiskView().hold("account:acct-1", "3")
    view.states["account:acct-1"] = TradingState.REDUCING
    denial = check_trading_state(facts_of(side=Side.SELL, quantity="4"), ACCOUNT, view)
    assert denial is not None and denial.code == "trading_reducing"
    assert "this sell of 4 ESH6 would not reduce the position 3 of account:acct-1" in denial.reason


def test_a_reducing_scope_counts_working_orders_on_the_reducing_side() -> None:
    view = FakeRiskView().hold("account:acct-1", "3").work("account:acct-1", Side.SELL, "2")
    view.states["account:acct-1"] = TradingState.REDUCING
    assert check_trading_state(facts_of(side=Side.SELL, quantity="1"), ACCOUNT, view) is None
    denial = check_trading_state(facts_of(side=Side.SELL, quantity="2"), ACCOUNT, view)
    assert denial is not None and denial.code == "trading_reducing"


def test_a_reducing_scope_with_no_position_denies_both_sides() -> None:
    view = FakeRiskView()
    view.states["portfolio"] = TradingState.REDUCING
    for side in Side:
        denial = check_trading_state(facts_of(side=side), PORTFOLIO, view)
        assert denial is not None and denial.code == "trading_reducing"


@pytest.mark.parametrize(
    ("position", "working", "side", "quantity", "reduces"),
    [
        ("10", "0", Side.SELL, "10", True),
        ("10", "4", Side.SELL, "6", True),
        ("10", "4", Side.SELL, "7", False),
        ("10", "0", Side.BUY, "1", False),
        ("-10", "0", Side.BUY, "10", True),
        ("-10", "0", Side.BUY, "11", False),
        ("0", "0", Side.SELL, "1", False),
    ],
)
def test_an_order_reduces_only_if_it_and_its_side_s_working_orders_cannot_pass_zero(
    position: str, working: str, side: Side, quantity: str, reduces: bool
) -> None:
    facts = facts_of(side=side, quantity=quantity)
    assert reduces_position(facts, Decimal(position), Decimal(working)) is reduces


# --- reduce-only ---


def test_a_reduce_only_order_that_would_increase_is_denied_with_position_and_working() -> None:
    view = FakeRiskView().hold("account:acct-1", "3").work("account:acct-1", Side.SELL, "1")
    denial = check_reduce_only(facts_of(side=Side.SELL, quantity="3", reduce_only=True), ACCOUNT, view)
    assert denial is not None and denial.code == "reduce_only_would_increase"
    assert denial.reason == (
        "reduce-only sell of 3 ESH6 would not reduce position 3 (working sell 1), account:acct-1"
    )


def test_a_reduce_only_order_within_the_position_passes() -> None:
    view = FakeRiskView().hold("account:acct-1", "3").work("account:acct-1", Side.SELL, "1")
    assert check_reduce_only(facts_of(side=Side.SELL, quantity="2", reduce_only=True), ACCOUNT, view) is None


def test_a_reduce_only_order_on_a_flat_position_is_denied() -> None:
    denial = check_reduce_only(facts_of(side=Side.BUY, reduce_only=True), ACCOUNT, FakeRiskView())
    assert denial is not None and denial.code == "reduce_only_would_increase"
    assert "would not reduce position 0 (working buy 0)" in denial.reason


def test_an_order_without_reduce_only_is_not_checked_for_it() -> None:
    assert check_reduce_only(facts_of(side=Side.BUY), ACCOUNT, FakeRiskView()) is None


# --- order size ---


def test_an_order_at_the_quantity_limit_passes_and_one_more_is_denied_with_the_numbers() -> None:
    at_limit = limits(max_order_quantity="10")
    assert check_order_size(facts_of(quantity="10"), at_limit, STRATEGY) is None
    denial = check_order_size(facts_of(quantity="11"), at_limit, STRATEGY)
    assert denial is not None and denial.code == "order_quantity_limit"
    assert denial.reason == "order quantity 11 > limit 10 ESH6, strategy:trend-1"


def test_an_order_at_the_notional_limit_passes_and_above_it_is_denied_with_the_numbers() -> None:
    facts = facts_of(quantity="2", reference="5000")  # 2 x 5000 x 50 = 500000
    assert check_order_size(facts, limits(max_order_notional="500000"), PORTFOLIO) is None
    denial = check_order_size(facts, limits(max_order_notional="499999.99"), PORTFOLIO)
    assert denial is not None and denial.code == "order_notional_limit"
    assert denial.reason == "order notional 500000 > limit 499999.99 USD, ESH6, portfolio"


def test_an_order_that_cannot_be_valued_is_denied_by_an_order_notional_limit() -> None:
    denial = check_order_size(
        facts_of(quantity="1000", reference=None), limits(max_order_notional="1"), ACCOUNT
    )
    assert denial is not None


# --- position ---


def test_a_position_limit_counts_position_and_working_orders_and_shows_them() -> None:
    view = FakeRiskView().hold("account:acct-1", "10").work("account:acct-1", Side.BUY, "5")
    facts = facts_of(side=Side.BUY, quantity="5")
    assert check_position(facts, limits(max_position_quantity="20"), ACCOUNT, view) is None
    denial = check_position(facts, limits(max_position_quantity="19"), ACCOUNT, view)
    assert denial is not None and denial.code == "position_limit"
    assert denial.reason == "position 10 + working buy 5 + order 5 > limit 19 ESH6, account:acct-1"


def test_a_position_limit_applies_to_short_positions_too() -> None:
    view = FakeRiskView().hold("portfolio", "-10")
    denial = check_position(
        facts_of(side=Side.SELL, quantity="5"), limits(max_position_quantity="14"), PORTFOLIO, view
    )
    assert denial is not None and denial.code == "position_limit"
    assert denial.reason == "position -10 + working sell 0 + order 5 > limit 14 ESH6, portfolio"


def test_working_orders_on_the_other_side_do_not_make_room() -> None:
    view = FakeRiskView().hold("account:acct-1", "10").work("account:acct-1", Side.SELL, "10")
    denial = check_position(
        facts_of(side=Side.BUY, quantity="1"), limits(max_position_quantity="10"), ACCOUNT, view
    )
    assert denial is not None and denial.code == "position_limit"


def test_a_reducing_order_passes_a_position_limit_already_exceeded() -> None:
    view = FakeRiskView().hold("account:acct-1", "30")
    facts = facts_of(side=Side.SELL, quantity="10")
    assert check_position(facts, limits(max_position_quantity="20"), ACCOUNT, view) is None


def test_an_order_that_flips_the_position_past_the_limit_is_denied() -> None:
    view = FakeRiskView().hold("account:acct-1", "10")
    facts = facts_of(side=Side.SELL, quantity="35")  # ends at -25
    denial = check_position(facts, limits(max_position_quantity="20"), ACCOUNT, view)
    assert denial is not None and denial.code == "position_limit"
    assert denial.reason == "position 10 + working sell 0 + order 35 > limit 20 ESH6, account:acct-1"
    assert (
        check_position(
            facts_of(side=Side.SELL, quantity="30"), limits(max_position_quantity="20"), ACCOUNT, view
        )
        is None
    )


def test_a_position_notional_limit_values_the_worst_case_at_the_reference_price() -> None:
    view = FakeRiskView().hold("account:acct-1", "1").work("account:acct-1", Side.BUY, "1")
    facts = facts_of(side=Side.BUY, quantity="1", reference="5000")  # 3 x 5000 x 50 = 750000
    assert check_position(facts, limits(max_position_notional="750000"), ACCOUNT, view) is None
    denial = check_position(facts, limits(max_position_notional="749999"), ACCOUNT, view)
    assert denial is not None and denial.code == "position_notional_limit"
    assert denial.reason == (
        "(position 1 + working buy 1 + order 1) x 5000 = 750000 > limit 749999 USD ESH6, account:acct-1"
    )


def test_the_quantity_limit_is_reported_before_the_notional_limit() -> None:
    both = limits(max_position_quantity="1", max_position_notional="1")
    denial = check_position(facts_of(quantity="2"), both, ACCOUNT, FakeRiskView())
    assert denial is not None and denial.code == "position_limit"


def test_an_order_that_cannot_be_valued_is_denied_by_a_position_notional_limit() -> None:
    denial = check_position(
        facts_of(quantity="1000", reference=None), limits(max_position_notional="1"), ACCOUNT, FakeRiskView()
    )
    assert denial is not None


def test_no_position_limit_means_no_position_check() -> None:
    view = FakeRiskView().hold("account:acct-1", "1000000")
    assert check_position(facts_of(quantity="1000"), Limits(), ACCOUNT, view) is None


# --- open orders ---


def test_open_orders_up_to_the_limit_pass_and_the_next_is_denied_with_the_count() -> None:
    view = FakeRiskView()
    view.open_counts["venue:paper"] = 2
    assert check_open_orders(facts_of(), limits(max_open_orders=3), VENUE, view) is None
    view.open_counts["venue:paper"] = 3
    denial = check_open_orders(facts_of(), limits(max_open_orders=3), VENUE, view)
    assert denial is not None and denial.code == "open_orders_limit"
    assert denial.reason == "open orders 3 + this order > limit 3, venue:paper"


# --- exposure ---


def test_gross_exposure_adds_the_order_value_and_denies_past_the_limit() -> None:
    view = FakeRiskView()
    view.exposure[("account:acct-1", FUTURE)] = Exposures(Decimal(1_000_000), Decimal(0), "USD")
    assert (
        check_exposure(facts_of(), limits(max_gross_exposure={FUTURE: Decimal("1250000")}), ACCOUNT, view)
        is None
    )
    denial = check_exposure(
        facts_of(), limits(max_gross_exposure={FUTURE: Decimal("1249999")}), ACCOUNT, view
    )
    assert denial is not None and denial.code == "gross_exposure_limit"
    assert denial.reason == (
        "gross future exposure 1000000 + order 250000 > limit 1249999 USD, account:acct-1"
    )


def test_gross_exposure_counts_a_sell_as_exposure_too() -> None:
    view = FakeRiskView()
    view.exposure[("account:acct-1", FUTURE)] = Exposures(Decimal(1_000_000), Decimal(0), "USD")
    denial = check_exposure(
        facts_of(side=Side.SELL), limits(max_gross_exposure={FUTURE: Decimal("1000000")}), ACCOUNT, view
    )
    assert denial is not None and denial.code == "gross_exposure_limit"


def test_net_exposure_is_signed_and_denied_beyond_the_limit_either_way() -> None:
    view = FakeRiskView()
    net = limits(max_net_exposure={FUTURE: Decimal("300000")})
    view.exposure[("account:acct-1", FUTURE)] = Exposures(Decimal(100_000), Decimal(100_000), "USD")
    denial = check_exposure(facts_of(side=Side.BUY), net, ACCOUNT, view)
    assert denial is not None and denial.code == "net_exposure_limit"
    assert denial.reason == (
        "net future exposure 100000 + order 250000 = 350000, beyond limit 300000 USD, account:acct-1"
    )
    view.exposure[("account:acct-1", FUTURE)] = Exposures(Decimal(100_000), Decimal(-100_000), "USD")
    denial = check_exposure(facts_of(side=Side.SELL), net, ACCOUNT, view)
    assert denial is not None and denial.code == "net_exposure_limit"
    assert denial.reason == (
        "net future exposure -100000 - order 250000 = -350000, beyond limit 300000 USD, account:acct-1"
    )


def test_net_exposure_exactly_at_the_limit_passes_and_an_order_towards_zero_passes() -> None:
    view = FakeRiskView()
    net = limits(max_net_exposure={FUTURE: Decimal("300000")})
    view.exposure[("account:acct-1", FUTURE)] = Exposures(Decimal(50_000), Decimal(50_000), "USD")
    assert check_exposure(facts_of(side=Side.BUY), net, ACCOUNT, view) is None
    view.exposure[("account:acct-1", FUTURE)] = Exposures(Decimal(400_000), Decimal(400_000), "USD")
    assert check_exposure(facts_of(side=Side.SELL), net, ACCOUNT, view) is None


def test_exposure_is_compared_in_the_scope_s_currency() -> None:
    view = FakeRiskView()
    view.currencies["account:acct-1"] = "EUR"
    view.rates[("USD", "EUR")] = Decimal("0.5")
    view.exposure[("account:acct-1", FUTURE)] = Exposures(Decimal(0), Decimal(0), "EUR")
    gross = limits(max_gross_exposure={FUTURE: Decimal("100000")})
    denial = check_exposure(facts_of(), gross, ACCOUNT, view)
    assert denial is not None and denial.code == "gross_exposure_limit"
    assert denial.reason == "gross future exposure 0 + order 125000 > limit 100000 EUR, account:acct-1"


def test_an_exposure_limit_of_another_asset_class_does_not_apply() -> None:
    view = FakeRiskView()
    view.exposure[("account:acct-1", FUTURE)] = "no price for ESH6"
    fx_only = limits(max_gross_exposure={AssetClass.FX: Decimal("1")})
    assert check_exposure(facts_of(quantity="1000"), fx_only, ACCOUNT, view) is None


def test_a_reducing_order_passes_an_exposure_limit_already_exceeded() -> None:
    view = FakeRiskView().hold("account:acct-1", "10")
    view.exposure[("account:acct-1", FUTURE)] = Exposures(Decimal(10**9), Decimal(10**9), "USD")
    both = limits(max_gross_exposure={FUTURE: Decimal(1)}, max_net_exposure={FUTURE: Decimal(1)})
    assert check_exposure(facts_of(side=Side.SELL, quantity="4"), both, ACCOUNT, view) is None


@pytest.mark.parametrize(
    ("arrange", "reason"),
    [
        ("no price", "cannot value future exposure of account:acct-1: no price for MSFT"),
        ("no reference", "cannot value future exposure of account:acct-1: no reference price for the order"),
        ("no rate", "no rate to convert USD to EUR for account:acct-1"),
    ],
)
def test_exposure_that_cannot_be_valued_denies_the_order(arrange: str, reason: str) -> None:
    view = FakeRiskView()
    reference: str | None = "5000"
    if arrange == "no price":
        view.exposure[("account:acct-1", FUTURE)] = "no price for MSFT"
    elif arrange == "no reference":
        reference = None
    else:
        view.currencies["account:acct-1"] = "EUR"
    gross = limits(max_gross_exposure={FUTURE: Decimal(10**12)})
    denial = check_exposure(facts_of(reference=reference), gross, ACCOUNT, view)
    assert denial is not None and denial.code == "exposure_unknown"
    assert denial.reason == reason


# --- daily loss ---


def test_the_daily_loss_limit_denies_once_the_loss_reaches_it_exactly() -> None:
    view = FakeRiskView()
    daily = limits(max_daily_loss="1000")
    view.pnl["account:acct-1"] = Decimal("-999.99")
    assert check_daily_loss(facts_of(), daily, ACCOUNT, view) is None
    view.pnl["account:acct-1"] = Decimal("-1000")
    denial = check_daily_loss(facts_of(), daily, ACCOUNT, view)
    assert denial is not None and denial.code == "daily_loss_limit"
    assert denial.reason == "today's P&L -1000 has reached the daily loss limit 1000, account:acct-1"


def test_a_reducing_order_passes_after_the_daily_loss_limit_is_reached() -> None:
    view = FakeRiskView().hold("account:acct-1", "-2")
    view.pnl["account:acct-1"] = Decimal("-5000")
    assert (
        check_daily_loss(facts_of(side=Side.BUY, quantity="2"), limits(max_daily_loss="1000"), ACCOUNT, view)
        is None
    )


def test_daily_pnl_that_cannot_be_valued_denies_the_order() -> None:
    view = FakeRiskView()
    view.pnl["strategy:trend-1"] = None
    denial = check_daily_loss(facts_of(), limits(max_daily_loss="1000"), STRATEGY, view)
    assert denial is not None and denial.code == "daily_pnl_unknown"
    assert denial.reason == "cannot value today's P&L of strategy:trend-1 (a position has no price)"


# --- market guards ---


def test_market_guards_without_a_quote_deny_the_order() -> None:
    denial = check_market(facts_of(quote=None), limits(max_spread_bps="10"), PORTFOLIO)
    assert denial is not None and denial.code == "no_quote"
    assert denial.reason == "no quote for ESH6: market guards of portfolio cannot be checked"


def test_no_market_guard_needs_no_quote() -> None:
    assert check_market(facts_of(quote=None), limits(max_order_quantity="1"), PORTFOLIO) is None


def test_a_quote_older_than_the_limit_is_stale_and_one_exactly_at_it_is_not() -> None:
    quote = quote_of("4999", "5001", ts=T0)
    stale = limits(max_quote_age_seconds="2")
    assert check_market(facts_of(quote=quote, now=T0 + timedelta(seconds=2)), stale, ACCOUNT) is None
    denial = check_market(facts_of(quote=quote, now=T0 + timedelta(seconds=2.5)), stale, ACCOUNT)
    assert denial is not None and denial.code == "stale_quote"
    assert denial.reason == "quote for ESH6 is 2.5s old > limit 2s, account:acct-1"


def test_a_spread_wider_than_the_limit_is_denied_with_the_prices_and_bps() -> None:
    quote = quote_of("4999", "5001")  # 2 / 5000 = 4 bps
    assert check_market(facts_of(quote=quote), limits(max_spread_bps="4"), PORTFOLIO) is None
    denial = check_market(facts_of(quote=quote), limits(max_spread_bps="3.99"), PORTFOLIO)
    assert denial is not None and denial.code == "spread_too_wide"
    assert denial.reason == "spread 4999/5001 = 4 bps > limit 3.99 bps ESH6, portfolio"


def test_a_limit_price_outside_the_collar_is_a_fat_finger() -> None:
    quote = quote_of("4999", "5001")
    order = facts_of(order_type=OrderType.LIMIT, limit_price="5050", reference="5050", quote=quote)
    assert check_market(order, limits(price_collar_bps="100"), STRATEGY) is None
    denial = check_market(order, limits(price_collar_bps="99.99"), STRATEGY)
    assert denial is not None and denial.code == "price_collar"
    assert denial.reason == (
        "limit price 5050 is 100 bps from mid 5000 > collar 99.99 bps ESH6, strategy:trend-1"
    )


def test_a_stop_price_outside_the_collar_is_a_fat_finger() -> None:
    facts = facts_of(order_type=OrderType.STOP, stop_price="4900", quote=quote_of("4999", "5001"))
    denial = check_market(facts, limits(price_collar_bps="150"), PORTFOLIO)
    assert denial is not None and denial.code == "price_collar"
    assert denial.reason == "stop price 4900 is 200 bps from mid 5000 > collar 150 bps ESH6, portfolio"


def test_a_market_order_has_no_price_to_collar() -> None:
    facts = facts_of(order_type=OrderType.MARKET, quote=quote_of("4999", "5001"))
    assert check_market(facts, limits(price_collar_bps="0"), PORTFOLIO) is None


def test_an_order_larger_than_its_share_of_the_touch_is_denied_per_side() -> None:
    quote = quote_of("4999", "5001", bid_size="4", ask_size="10")
    touch = limits(max_touch_fraction="0.5")
    assert check_market(facts_of(side=Side.BUY, quantity="5", quote=quote), touch, ACCOUNT) is None
    denial = check_market(facts_of(side=Side.BUY, quantity="6", quote=quote), touch, ACCOUNT)
    assert denial is not None and denial.code == "liquidity"
    assert denial.reason == "order 6 > 0.5 x displayed 10 at the touch ESH6, account:acct-1"
    denial = check_market(facts_of(side=Side.SELL, quantity="3", quote=quote), touch, ACCOUNT)
    assert denial is not None and denial.code == "liquidity"
    assert denial.reason == "order 3 > 0.5 x displayed 4 at the touch ESH6, account:acct-1"

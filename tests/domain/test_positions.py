"""Positions and the portfolio: quantities, average price and P&L folded from fills alone."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import ACCOUNT, ES, EURUSD, make_filled, make_spec
from tradewire.domain.enums import Side
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId
from tradewire.domain.positions import Position
from tradewire.portfolio.book import Portfolio

Fill = tuple[Side, Decimal, Decimal]
"""(side, quantity, price) of one execution."""

BUY, SELL = Side.BUY, Side.SELL


def _position(multiplier: str = "1") -> Position:
    return Position(AccountId("acct-1"), InstrumentId("X"), None, Decimal(multiplier))


def _apply(position: Position, fills: list[Fill], fee: str = "0") -> None:
    for side, quantity, price in fills:
        position.apply_fill(side, quantity, price, Decimal(fee))


def test_a_new_position_is_flat_with_no_average_and_no_pnl() -> None:
    position = _position()
    assert position.quantity == 0
    assert position.average_price is None
    assert position.realized_pnl == 0
    assert position.unrealized_pnl(None) == 0
    assert position.fill_count == 0


def test_adding_to_a_position_moves_the_average_price_by_quantity() -> None:
    position = _position()
    _apply(position, [(BUY, Decimal("1"), Decimal("100")), (BUY, Decimal("3"), Decimal("104"))])
    assert position.quantity == Decimal("4")
    assert position.average_price == Decimal("103")
    assert position.realized_pnl == 0


def test_reducing_a_long_realizes_the_gain_times_the_multiplier() -> None:
    position = _position("50")
    _apply(position, [(BUY, Decimal("2"), Decimal("5000.00"))])
    realized = position.apply_fill(SELL, Decimal("1"), Decimal("5010.25"), Decimal("0"))
    # 10.25 points on one contract at $50 a point
    assert realized == Decimal("512.50")
    assert position.realized_pnl == Decimal("512.50")
    assert position.quantity == Decimal("1")
    assert position.average_price == Decimal("5000.00")


def test_covering_a_short_above_its_average_realizes_a_loss() -> None:
    position = _position()
    _apply(position, [(SELL, Decimal("3"), Decimal("1.10000"))])
    realized = position.apply_fill(BUY, Decimal("2"), Decimal("1.10250"), Decimal("0"))
    assert realized == Decimal("-0.00500")
    assert position.quantity == Decimal("-1")
    assert position.average_price == Decimal("1.10000")


def test_flipping_through_zero_realizes_the_old_side_and_opens_the_rest_at_the_fill_price() -> None:
    position = _position()
    _apply(position, [(BUY, Decimal("2"), Decimal("100")), (SELL, Decimal("5"), Decimal("110"))])
    assert position.realized_pnl == Decimal("20")
    assert position.quantity == Decimal("-3")
    assert position.average_price == Decimal("110")
    assert position.unrealized_pnl(Decimal("108")) == Decimal("6")


def test_closing_to_flat_clears_the_average_and_leaves_no_unrealized_pnl() -> None:
    position = _position()
    _apply(position, [(SELL, Decimal("4"), Decimal("50")), (BUY, Decimal("4"), Decimal("45"))])
    assert position.quantity == 0
    assert position.average_price is None
    assert position.realized_pnl == Decimal("20")
    assert position.unrealized_pnl(None) == 0
    assert position.unrealized_pnl(Decimal("1000")) == 0


def test_unrealized_pnl_is_unknown_without_a_mark_price_while_a_position_is_open() -> None:
    position = _position()
    _apply(position, [(BUY, Decimal("1"), Decimal("100"))])
    assert position.unrealized_pnl(None) is None


def test_unrealized_pnl_of_a_future_uses_its_multiplier() -> None:
    position = _position("50")
    _apply(position, [(SELL, Decimal("2"), Decimal("5000.25"))])
    assert position.unrealized_pnl(Decimal("4990.00")) == Decimal("1025.00")


def test_fees_accumulate_apart_from_pnl_and_net_realized_subtracts_them() -> None:
    position = _position()
    position.apply_fill(BUY, Decimal("1"), Decimal("100"), Decimal("0.25"))
    position.apply_fill(SELL, Decimal("1"), Decimal("103"), Decimal("0.30"))
    assert position.fees == Decimal("0.55")
    assert position.realized_pnl == Decimal("3")
    assert position.net_realized_pnl == Decimal("2.45")


def test_a_maker_rebate_is_a_negative_fee_that_raises_net_pnl() -> None:
    position = _position()
    position.apply_fill(BUY, Decimal("1"), Decimal("100"), Decimal("-0.10"))
    assert position.fees == Decimal("-0.10")
    assert position.net_realized_pnl == Decimal("0.10")


def test_bought_sold_and_fill_count_track_gross_activity() -> None:
    position = _position()
    _apply(
        position,
        [
            (BUY, Decimal("2"), Decimal("10")),
            (SELL, Decimal("5"), Decimal("11")),
            (BUY, Decimal("1"), Decimal("9")),
        ],
    )
    assert position.bought == Decimal("3")
    assert position.sold == Decimal("5")
    assert position.fill_count == 3
    assert position.quantity == Decimal("-2")


def test_total_pnl_equals_the_exact_sum_of_fill_pnl_when_the_average_does_not_terminate() -> None:
    position = _position()
    _apply(
        position,
        [
            (BUY, Decimal("1"), Decimal("1")),
            (BUY, Decimal("2"), Decimal("2")),
            (SELL, Decimal("1"), Decimal("3")),
        ],
    )
    mark = Decimal("2.5")
    # 1 * (2.5 - 1) + 2 * (2.5 - 2) - 1 * (2.5 - 3) = 1.5 + 1 + 0.5
    unrealized = position.unrealized_pnl(mark)
    assert unrealized is not None
    assert position.realized_pnl + unrealized == Decimal("3")


# --- properties over arbitrary fill sequences ---

quantities = st.integers(min_value=1, max_value=50_000).map(lambda n: Decimal(n).scaleb(-3))
prices = st.integers(min_value=1, max_value=10_000_000).map(lambda n: Decimal(n).scaleb(-2))
fills = st.lists(st.tuples(st.sampled_from(Side), quantities, prices), min_size=1, max_size=25)
multipliers = st.sampled_from([Decimal("1"), Decimal("50")])
fees = st.integers(min_value=-100, max_value=1_000).map(lambda n: Decimal(n).scaleb(-2))

PNL_TOLERANCE = Decimal("1e-9")
"""Far below any currency unit: a partial close divides the cost basis, which a Decimal rounds."""


def _signed(side: Side, quantity: Decimal) -> Decimal:
    return quantity if side is Side.BUY else -quantity


@settings(max_examples=300, deadline=None)
@given(fills=fills, mark=prices, multiplier=multipliers)
def test_realized_plus_unrealized_equals_the_sum_of_every_fill_marked_to_market(
    fills: list[Fill], mark: Decimal, multiplier: Decimal
) -> None:
    position = _position(str(multiplier))
    _apply(position, fills)
    expected = sum(
        (_signed(side, quantity) * (mark - price) * multiplier for side, quantity, price in fills),
        Decimal(0),
    )
    unrealized = position.unrealized_pnl(mark)
    assert unrealized is not None
    assert position.realized_pnl + unrealized == expected  # exact: the cost basis absorbs rounding


@settings(max_examples=300, deadline=None)
@given(fills=fills, multiplier=multipliers)
def test_realized_pnl_matches_exact_average_cost_accounting(fills: list[Fill], multiplier: Decimal) -> None:
    """An independent model in exact fractions: reduce at the average, reopen at the fill price."""
    position = _position(str(multiplier))
    held, average, realized = Fraction(0), Fraction(0), Fraction(0)
    for side, quantity, price in fills:
        position.apply_fill(side, quantity, price, Decimal(0))
        signed, fill_price = Fraction(_signed(side, quantity)), Fraction(price)
        if held == 0 or (held > 0) == (signed > 0):
            average = (average * abs(held) + fill_price * abs(signed)) / (abs(held) + abs(signed))
        else:
            closed = min(abs(signed), abs(held))
            realized += (fill_price - average) * closed * (1 if held > 0 else -1)
            if abs(signed) > abs(held):
                average = fill_price
        held += signed
        assert position.quantity == held
    assert abs(Fraction(position.realized_pnl) - realized * Fraction(multiplier)) <= Fraction(PNL_TOLERANCE)


@settings(max_examples=300, deadline=None)
@given(fills=fills, fee_list=st.lists(fees, min_size=25, max_size=25))
def test_quantity_average_and_fees_follow_each_fill(fills: list[Fill], fee_list: list[Decimal]) -> None:
    position = _position()
    expected_quantity = Decimal(0)
    for (side, quantity, price), fee in zip(fills, fee_list, strict=False):
        before = position.quantity
        realized_before = position.realized_pnl
        position.apply_fill(side, quantity, price, fee)
        expected_quantity += _signed(side, quantity)
        assert position.quantity == expected_quantity
        if expected_quantity == 0:
            assert position.average_price is None
        elif before == 0 or (before > 0) != (expected_quantity > 0):
            # opened from flat or flipped through zero: the new side starts at the fill price
            assert position.average_price == price
        if before == 0 or (before > 0) == (side is Side.BUY):
            assert position.realized_pnl == realized_before
    assert position.fees == sum(fee_list[: len(fills)], Decimal(0))
    assert position.net_realized_pnl == position.realized_pnl - position.fees
    assert position.bought - position.sold == expected_quantity
    assert position.fill_count == len(fills)


# --- the portfolio: account positions are the net of their strategies ---


def test_the_portfolio_nets_strategies_into_the_account_position() -> None:
    trend = make_spec(client_order_id="o-1", strategy=StrategyId("trend"), side=Side.BUY)
    revert = make_spec(client_order_id="o-2", strategy=StrategyId("revert"), side=Side.SELL)
    portfolio = Portfolio()
    portfolio.apply_fill(make_filled(trend, quantity="3", price="5000.00"))
    portfolio.apply_fill(make_filled(revert, quantity="5", price="5002.50"))

    instrument = ES.instrument_id
    assert portfolio.strategy_quantity(ACCOUNT, StrategyId("trend"), instrument) == Decimal("3")
    assert portfolio.strategy_quantity(ACCOUNT, StrategyId("revert"), instrument) == Decimal("-5")
    assert portfolio.account_quantity(ACCOUNT, instrument) == Decimal("-2")

    account = next(iter(portfolio.account_positions(ACCOUNT)))
    # the account bought 3 at 5000 and sold 3 of the 5 at 5002.50: 2.50 points * 3 * $50
    assert account.realized_pnl == Decimal("375.00")
    assert account.multiplier == Decimal("50")

    mark = Decimal("5001.00")
    strategy_total = sum(
        (p.realized_pnl + (p.unrealized_pnl(mark) or Decimal(0)))
        for p in portfolio.strategy_positions(ACCOUNT)
    )
    account_unrealized = account.unrealized_pnl(mark)
    assert account_unrealized is not None
    assert strategy_total == account.realized_pnl + account_unrealized


def test_the_portfolio_keeps_accounts_and_instruments_apart() -> None:
    other = AccountId("acct-2")
    portfolio = Portfolio()
    portfolio.apply_fill(make_filled(make_spec(instrument=ES), quantity="2", price="5000"))
    portfolio.apply_fill(make_filled(make_spec(instrument=EURUSD), quantity="100000", price="1.08500"))
    portfolio.apply_fill(make_filled(make_spec(account=other, side=Side.SELL), quantity="1", price="5000"))
    assert portfolio.account_quantity(ACCOUNT, ES.instrument_id) == Decimal("2")
    assert portfolio.account_quantity(ACCOUNT, EURUSD.instrument_id) == Decimal("100000")
    assert portfolio.account_quantity(other, ES.instrument_id) == Decimal("-1")
    assert portfolio.account_quantity(other, EURUSD.instrument_id) == 0
    assert len(list(portfolio.account_positions(ACCOUNT))) == 2
    assert len(list(portfolio.account_positions())) == 3

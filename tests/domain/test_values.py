"""Decimal values and the directional rounding to tick and lot."""

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import BTCUSDT, ES, EURUSD
from tradewire.domain.enums import Side
from tradewire.domain.values import (
    ceil_to_step,
    floor_to_step,
    is_on_step,
    normalize,
    round_price_passive,
    round_quantity,
    to_decimal,
)

# --- to_decimal ---


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.1", Decimal("0.1")),
        ("1.08500", Decimal("1.08500")),
        ("-2.5", Decimal("-2.5")),
        (3, Decimal("3")),
        (Decimal("5000.25"), Decimal("5000.25")),
    ],
)
def test_to_decimal_takes_strings_ints_and_decimals_exactly(value: object, expected: Decimal) -> None:
    result = to_decimal(value)
    assert result == expected
    assert str(result) == str(expected)


def test_to_decimal_refuses_a_float_and_says_what_to_pass_instead() -> None:
    with pytest.raises(TypeError, match=r"float is not accepted; pass a string or Decimal"):
        to_decimal(0.1)


@pytest.mark.parametrize("value", [True, False])
def test_to_decimal_refuses_a_boolean(value: bool) -> None:
    with pytest.raises(TypeError, match="a boolean is not a number"):
        to_decimal(value)


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "sNaN", "inf", "-Infinity", Decimal("NaN"), Decimal("-Infinity")]
)
def test_to_decimal_refuses_nan_and_infinity(value: object) -> None:
    with pytest.raises(ValueError, match="is not a finite number"):
        to_decimal(value)


@pytest.mark.parametrize("value", ["", "abc", "1.2.3", "1,5"])
def test_to_decimal_refuses_text_that_is_not_a_number_and_quotes_it(value: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"{value!r} is not a decimal number")):
        to_decimal(value)


@pytest.mark.parametrize("value", [None, [1], b"1"])
def test_to_decimal_refuses_other_types_by_name(value: object) -> None:
    with pytest.raises(TypeError, match=f"{type(value).__name__} is not accepted"):
        to_decimal(value)


# --- directional rounding ---


@pytest.mark.parametrize(
    ("price", "tick", "side", "expected"),
    [
        ("5000.30", "0.25", Side.BUY, "5000.25"),
        ("5000.30", "0.25", Side.SELL, "5000.50"),
        ("5000.25", "0.25", Side.BUY, "5000.25"),
        ("5000.25", "0.25", Side.SELL, "5000.25"),
        ("1.085004", "0.00001", Side.BUY, "1.08500"),
        ("1.085004", "0.00001", Side.SELL, "1.08501"),
        ("43210.129", "0.01", Side.BUY, "43210.12"),
        ("43210.121", "0.01", Side.SELL, "43210.13"),
    ],
)
def test_a_buy_limit_rounds_down_and_a_sell_limit_rounds_up_to_the_tick(
    price: str, tick: str, side: Side, expected: str
) -> None:
    assert round_price_passive(Decimal(price), Decimal(tick), side) == Decimal(expected)


def test_instruments_round_limit_prices_with_their_own_tick() -> None:
    assert ES.round_limit_price(Decimal("4999.90"), Side.BUY) == Decimal("4999.75")
    assert ES.round_limit_price(Decimal("4999.90"), Side.SELL) == Decimal("5000.00")
    assert EURUSD.round_limit_price(Decimal("1.0850049"), Side.BUY) == Decimal("1.08500")
    assert ES.is_on_tick(Decimal("4999.75"))
    assert not ES.is_on_tick(Decimal("4999.80"))


@pytest.mark.parametrize(
    ("quantity", "lot", "expected"),
    [
        ("2.7", "1", "2"),
        ("0.123456789", "0.00001", "0.12345"),
        ("153400", "1000", "153000"),
        ("999", "1000", "0"),
        ("5", "1", "5"),
    ],
)
def test_a_quantity_rounds_down_to_the_lot_and_never_trades_more_than_asked(
    quantity: str, lot: str, expected: str
) -> None:
    assert round_quantity(Decimal(quantity), Decimal(lot)) == Decimal(expected)


def test_instruments_round_quantities_with_their_own_lot() -> None:
    assert BTCUSDT.round_quantity(Decimal("0.0123456")) == Decimal("0.01234")
    assert EURUSD.round_quantity(Decimal("25999")) == Decimal("25000")
    assert BTCUSDT.is_on_lot(Decimal("0.01234"))
    assert not BTCUSDT.is_on_lot(Decimal("0.012345"))


def test_the_notional_of_a_future_includes_its_multiplier() -> None:
    assert ES.notional(Decimal("2"), Decimal("5000.25")) == Decimal("500025.00")


def test_a_negative_quantity_rounds_toward_zero() -> None:
    assert round_quantity(Decimal("-1.7"), Decimal("1")) == Decimal("-1")


def test_a_buy_limit_with_full_decimal_precision_still_rounds_down() -> None:
    price = Decimal("0.9999999999999999999999999999")  # what 1 / 3 * 3 gives in Decimal
    assert round_price_passive(price, Decimal("0.25"), Side.BUY) == Decimal("0.75")


ticks = st.sampled_from(
    [Decimal(t) for t in ("0.25", "0.01", "0.00001", "0.5", "5", "0.05", "0.0001", "0.1")]
)
limit_prices = st.decimals(
    min_value=Decimal("0.00001"),
    max_value=Decimal("1000000"),
    places=8,
    allow_nan=False,
    allow_infinity=False,
) | st.decimals(  # results of Decimal arithmetic carry all 28 digits of the context
    min_value=Decimal("0.00001"),
    max_value=Decimal("1000000"),
    places=22,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=500, deadline=None)
@given(price=limit_prices, tick=ticks, side=st.sampled_from(Side))
def test_a_rounded_limit_is_on_the_tick_within_one_tick_and_never_worse_for_us(
    price: Decimal, tick: Decimal, side: Side
) -> None:
    rounded = round_price_passive(price, tick, side)
    assert rounded % tick == 0
    assert abs(rounded - price) < tick
    if side is Side.BUY:
        assert rounded <= price  # never pay more than asked
    else:
        assert rounded >= price  # never receive less than asked
    if price % tick == 0:
        assert rounded == price


@settings(max_examples=300, deadline=None)
@given(
    quantity=st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=8),
    lot=st.sampled_from([Decimal(t) for t in ("1", "0.001", "0.00001", "1000", "0.5")]),
)
def test_a_rounded_quantity_is_on_the_lot_and_less_than_one_lot_closer_to_zero(
    quantity: Decimal, lot: Decimal
) -> None:
    rounded = round_quantity(quantity, lot)
    assert is_on_step(rounded, lot)
    assert abs(rounded) <= abs(quantity) < abs(rounded) + lot
    assert rounded == 0 or (rounded > 0) == (quantity > 0)


@pytest.mark.parametrize(
    ("value", "step", "floor", "ceil"),
    [
        ("-1.3", "0.5", "-1.5", "-1.0"),
        ("-0.1", "0.25", "-0.25", "0"),
        ("7", "5", "5", "10"),
    ],
)
def test_floor_and_ceil_of_negative_and_positive_values_go_down_and_up(
    value: str, step: str, floor: str, ceil: str
) -> None:
    assert floor_to_step(Decimal(value), Decimal(step)) == Decimal(floor)
    assert ceil_to_step(Decimal(value), Decimal(step)) == Decimal(ceil)


def test_floor_and_ceil_leave_a_value_on_the_step_unchanged() -> None:
    assert floor_to_step(Decimal("12.50"), Decimal("0.25")) == Decimal("12.50")
    assert ceil_to_step(Decimal("12.50"), Decimal("0.25")) == Decimal("12.50")
    assert floor_to_step(Decimal("12.51"), Decimal("0.25")) == Decimal("12.50")
    assert ceil_to_step(Decimal("12.51"), Decimal("0.25")) == Decimal("12.75")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.500", "1.5"), ("100", "100"), ("1E+2", "100"), ("0.000", "0"), ("-2.50", "-2.5")],
)
def test_normalize_strips_trailing_zeros_and_keeps_integers_integral(value: str, expected: str) -> None:
    assert str(normalize(Decimal(value))) == expected

"""`parse_signal`: every rule, read back through the FieldProblem it produces."""

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewire.domain.enums import OrderType, Side, TimeInForce
from tradewire.domain.errors import FieldProblem, InvalidInput
from tradewire.domain.signals import FIELD_ACCEPTED, Signal, check_signal, parse_signal

MARKET_BUY: dict[str, Any] = {
    "strategy": "trend-1",
    "instrument": "ESH6",
    "side": "buy",
    "quantity": "2",
}


def _signal(**changes: Any) -> dict[str, Any]:
    """The valid market buy with some fields changed; a value of `...` removes the field."""
    payload = {**MARKET_BUY, **changes}
    return {name: value for name, value in payload.items() if value is not ...}


def _problems(payload: bytes | str | dict[str, Any] | Signal) -> list[FieldProblem]:
    with pytest.raises(InvalidInput) as raised:
        parse_signal(payload)
    assert raised.value.problems, "InvalidInput must carry at least one problem"
    return raised.value.problems


def _only_problem(payload: bytes | str | dict[str, Any] | Signal) -> FieldProblem:
    problems = _problems(payload)
    assert len(problems) == 1, problems
    return problems[0]


# --- valid signals ---


def test_a_market_buy_parses_with_exact_decimals_and_defaults() -> None:
    signal = parse_signal(_signal(quantity="0.1"))
    assert signal.side is Side.BUY
    assert signal.quantity == Decimal("0.1")
    assert str(signal.quantity) == "0.1"
    assert signal.order_type is OrderType.MARKET
    assert signal.time_in_force is TimeInForce.GTC
    assert not signal.reduce_only


def test_the_same_signal_parses_from_a_dict_json_bytes_json_text_and_a_signal() -> None:
    from_dict = parse_signal(MARKET_BUY)
    from_bytes = parse_signal(json.dumps(MARKET_BUY).encode())
    from_text = parse_signal(json.dumps(MARKET_BUY))
    assert from_dict == from_bytes == from_text
    assert parse_signal(from_dict) == from_dict


def test_a_json_number_keeps_its_exact_decimal_digits() -> None:
    signal = parse_signal(b'{"strategy":"s","instrument":"X","side":"sell","quantity":0.1}')
    assert signal.quantity == Decimal("0.1")


def test_a_stop_limit_sell_with_both_prices_parses() -> None:
    signal = parse_signal(
        _signal(side="sell", order_type="stop_limit", limit_price="4990.00", stop_price="4995.00")
    )
    assert signal.order_type is OrderType.STOP_LIMIT
    assert signal.limit_price == Decimal("4990.00")
    assert signal.stop_price == Decimal("4995.00")


def test_a_target_position_without_side_parses_including_short_and_flat() -> None:
    for target in ("-2.5", "0", "3"):
        signal = parse_signal(_signal(side=..., quantity=..., target_position=target))
        assert signal.target_position == Decimal(target)
        assert signal.side is None


def test_a_notional_with_a_side_parses() -> None:
    signal = parse_signal(_signal(quantity=..., notional="25000", account="acct-1"))
    assert signal.notional == Decimal("25000")
    assert signal.account == "acct-1"


def test_an_idempotency_key_of_exactly_128_characters_is_accepted() -> None:
    assert parse_signal(_signal(idempotency_key="k" * 128)).idempotency_key == "k" * 128


# --- order types and their prices ---


def test_a_limit_order_without_a_limit_price_names_the_limit_price() -> None:
    problem = _only_problem(_signal(order_type="limit"))
    assert problem.field == "limit_price"
    assert "required for a limit order" in problem.problem


def test_a_stop_limit_order_without_prices_names_both_prices() -> None:
    problems = _problems(_signal(order_type="stop_limit"))
    assert {(p.field, p.problem) for p in problems} == {
        ("limit_price", "is required for a stop_limit order"),
        ("stop_price", "is required for a stop_limit order"),
    }


def test_a_stop_order_without_a_stop_price_names_the_stop_price() -> None:
    problem = _only_problem(_signal(order_type="stop"))
    assert problem.field == "stop_price"
    assert "required for a stop order" in problem.problem


def test_a_market_order_with_a_limit_price_says_it_is_not_used() -> None:
    problem = _only_problem(_signal(limit_price="5000"))
    assert problem.field == "limit_price"
    assert problem.problem == "is not used by a market order"
    assert "limit or stop_limit" in problem.accepted


def test_a_limit_order_with_a_stop_price_says_it_is_not_used() -> None:
    problem = _only_problem(_signal(order_type="limit", limit_price="5000", stop_price="4990"))
    assert problem.field == "stop_price"
    assert problem.problem == "is not used by a limit order"


# --- sizes ---


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", "-1"), ("quantity", "0"), ("notional", "-100"), ("quantity", "-0")],
)
def test_a_size_at_or_below_zero_is_refused_with_the_value(field: str, value: str) -> None:
    payload = {**_signal(quantity=...), field: value}
    problem = _only_problem(payload)
    assert problem.field == field
    assert problem.problem == f"must be greater than zero, got {value}"
    assert "positive decimal number" in problem.accepted


@pytest.mark.parametrize("field", ["limit_price", "stop_price", "signal_price"])
def test_a_price_at_or_below_zero_is_refused(field: str) -> None:
    payload = _signal(order_type="stop_limit", limit_price="10", stop_price="10")
    payload[field] = "-0.25"
    problem = _only_problem(payload)
    assert problem.field == field
    assert "greater than zero" in problem.problem


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e15", "sNaN"])
def test_a_quantity_that_is_not_finite_or_absurdly_large_is_refused(value: str) -> None:
    problem = _only_problem(_signal(quantity=value))
    assert problem.field == "quantity"
    assert problem.problem.endswith("is not a finite number")


def test_a_target_position_that_is_not_finite_names_the_target_position() -> None:
    problem = _only_problem(_signal(side=..., quantity=..., target_position="NaN"))
    assert problem.field == "target_position"
    assert "not a finite number" in problem.problem


def test_quantity_and_notional_together_are_refused_naming_both() -> None:
    problem = _only_problem(_signal(notional="1000"))
    assert problem.field == "quantity"
    assert "exactly one of quantity, notional or target_position" in problem.problem
    assert "(given: quantity, notional)" in problem.problem


def test_a_signal_without_any_size_is_refused() -> None:
    problem = _only_problem(_signal(quantity=..., side=...))
    assert problem.field == "quantity"
    assert "(given: none)" in problem.problem


def test_a_side_with_a_target_position_is_refused() -> None:
    problem = _only_problem(_signal(quantity=..., target_position="2"))
    assert problem.field == "side"
    assert "must be omitted with target_position" in problem.problem


def test_a_quantity_without_a_side_is_refused() -> None:
    problem = _only_problem(_signal(side=...))
    assert problem.field == "side"
    assert problem.problem == "is required with quantity or notional"
    assert problem.accepted == "one of: buy, sell"


# --- names and keys ---


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("strategy", "bad name!"),
        ("strategy", "-starts-with-dash"),
        ("strategy", ""),
        ("strategy", "s" * 65),
        ("account", "acct 1"),
    ],
)
def test_a_bad_name_is_quoted_and_the_rule_is_stated(field: str, value: str) -> None:
    problem = _only_problem(_signal(**{field: value}))
    assert problem.field == field
    assert problem.problem == f"{value!r} is not a valid name"
    assert "1-64 characters" in problem.accepted


def test_a_name_of_64_characters_is_accepted() -> None:
    assert parse_signal(_signal(strategy="s" * 64)).strategy == "s" * 64


@pytest.mark.parametrize("value", ["", "X" * 65])
def test_an_instrument_id_must_be_1_to_64_characters(value: str) -> None:
    problem = _only_problem(_signal(instrument=value))
    assert problem.field == "instrument"
    assert problem.problem == "must be 1-64 characters"


@pytest.mark.parametrize(("length", "shown"), [(129, "has 129 characters"), (0, "has 0 characters")])
def test_an_idempotency_key_of_the_wrong_length_is_refused(length: int, shown: str) -> None:
    problem = _only_problem(_signal(idempotency_key="k" * length))
    assert problem.field == "idempotency_key"
    assert problem.problem == shown
    assert "1-128 characters" in problem.accepted


# --- the decoding path ---


def test_an_unknown_field_is_named_and_the_accepted_fields_are_listed() -> None:
    problem = _only_problem(_signal(qty="2"))
    assert problem.field == "qty"
    assert problem.problem == "is not a signal field"
    for known in ("quantity", "notional", "target_position", "idempotency_key", "reduce_only"):
        assert known in problem.accepted


def test_an_unknown_field_in_json_bytes_is_named() -> None:
    problem = _only_problem(json.dumps(_signal(price="5000")).encode())
    assert problem.field == "price"
    assert problem.problem == "is not a signal field"


def test_a_missing_required_field_is_named() -> None:
    problem = _only_problem(_signal(strategy=...))
    assert problem.field == "strategy"
    assert problem.problem == "is required"
    assert problem.accepted == FIELD_ACCEPTED["strategy"]


@pytest.mark.parametrize(
    ("field", "value", "mentions"),
    [
        ("quantity", True, "bool"),
        ("strategy", 5, "str"),
        ("reduce_only", "yes", "bool"),
        ("quantity", [1], "array"),
    ],
)
def test_a_value_of_the_wrong_type_names_its_field(field: str, value: Any, mentions: str) -> None:
    for payload in (_signal(**{field: value}), json.dumps(_signal(**{field: value})).encode()):
        problem = _only_problem(payload)
        assert problem.field == field
        assert "Expected" in problem.problem
        assert mentions in problem.problem
        assert problem.accepted == FIELD_ACCEPTED[field]


@pytest.mark.parametrize(("field", "value"), [("side", "long"), ("order_type", "iceberg")])
def test_a_value_outside_an_enum_names_the_field_and_lists_the_choices(field: str, value: str) -> None:
    problem = _only_problem(_signal(**{field: value}))
    assert problem.field == field
    assert repr(value) in problem.problem
    assert problem.accepted.startswith("one of: ")


@pytest.mark.parametrize(
    "body", [b'{"strategy": "trend-1",', b"not json", b"\xff\xfe", b"", "{'single': 'quotes'}"]
)
def test_malformed_json_is_reported_against_the_body(body: bytes | str) -> None:
    problem = _only_problem(body)
    assert problem.field == "body"
    assert problem.problem.startswith("not valid JSON")
    assert problem.accepted == "a JSON object"


@pytest.mark.parametrize("body", [b"[1, 2]", b'"buy"', b"42", b"null"])
def test_json_that_is_not_an_object_is_reported_against_the_body(body: bytes) -> None:
    problem = _only_problem(body)
    assert problem.field == "body"
    assert "Expected `object`" in problem.problem


def test_several_problems_are_all_reported_at_once() -> None:
    payload = _signal(
        strategy="bad name!",
        quantity="-3",
        order_type="limit",
        stop_price="10",
        idempotency_key="k" * 200,
    )
    problems = _problems(payload)
    assert {p.field for p in problems} == {
        "strategy",
        "quantity",
        "limit_price",
        "stop_price",
        "idempotency_key",
    }
    with pytest.raises(InvalidInput) as raised:
        parse_signal(payload)
    message = str(raised.value)
    assert "strategy: 'bad name!' is not a valid name" in message
    assert "limit_price: is required for a limit order" in message


@pytest.mark.parametrize(
    "payload",
    [
        _signal(quantity="1e999999999"),
        b'{"strategy":"s","instrument":"X","side":"buy","quantity":1e999999999}',
    ],
)
def test_a_number_with_a_huge_exponent_is_refused_as_invalid_input(
    payload: bytes | dict[str, Any],
) -> None:
    problem = _only_problem(payload)
    assert problem.field == "quantity"


def test_a_signal_built_in_python_with_a_float_quantity_is_refused_as_invalid_input() -> None:
    built = Signal(strategy="trend-1", instrument="ESH6", side=Side.BUY, quantity=1.5)  # type: ignore[arg-type]
    problem = _only_problem(built)
    assert problem.field == "quantity"
    assert "inexact" in problem.problem


def test_a_signal_built_in_python_with_plain_strings_gets_real_enums() -> None:
    built = Signal(strategy="trend-1", instrument="ESH6", side="sell", quantity=Decimal("2"))  # type: ignore[arg-type]
    assert parse_signal(built).side is Side.SELL


@pytest.mark.parametrize("field", ["quantity", "limit_price"])
def test_a_float_in_a_dict_is_refused_as_inexact_and_named(field: str) -> None:
    payload = {**_signal(order_type="limit", limit_price="5000"), field: 0.1}
    problem = _only_problem(payload)
    assert problem.field == field
    assert problem.problem == "0.1 is a binary float, which is inexact"


def test_a_payload_that_is_not_a_mapping_is_refused_against_the_body() -> None:
    problem = _only_problem([("strategy", "trend-1")])  # type: ignore[arg-type]
    assert problem.field == "body"


# --- any JSON-ish input either parses or is refused with InvalidInput ---

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
# Numbers as text, exponents far beyond the Decimal context's limits included.
number_texts = st.builds(
    lambda mantissa, exponent: f"{mantissa}e{exponent}",
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=-30, max_value=30) | st.integers(min_value=-(10**12), max_value=10**12),
) | st.sampled_from(["0", "1", "-1", "2.5", "0.0001", "NaN", "Infinity", "-0", "1e15"])
json_values = st.recursive(
    json_scalars | number_texts,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
field_values: dict[str, st.SearchStrategy[Any]] = {
    "strategy": st.sampled_from(["trend-1", "", "bad name", "x" * 70]) | json_values,
    "instrument": st.sampled_from(["ESH6", "EUR/USD", "", "Y" * 70]) | json_values,
    "account": st.sampled_from(["acct-1", "acct 1"]) | json_values,
    "side": st.sampled_from(["buy", "sell", "BUY", "hold"]) | json_values,
    "quantity": number_texts | json_values,
    "notional": number_texts | json_values,
    "target_position": number_texts | json_values,
    "order_type": st.sampled_from([*OrderType, "iceberg"]) | json_values,
    "limit_price": number_texts | json_values,
    "stop_price": number_texts | json_values,
    "time_in_force": st.sampled_from([*TimeInForce, "gtd"]) | json_values,
    "signal_price": number_texts | json_values,
    "idempotency_key": st.text(max_size=140) | json_values,
    "reduce_only": st.booleans() | json_values,
    "unexpected": json_values,
}
signal_like = st.fixed_dictionaries({}, optional=field_values)


def _assert_parses_or_is_refused(payload: bytes | dict[str, Any]) -> None:
    signal: Signal | None = None
    problems: list[FieldProblem] = []
    try:
        signal = parse_signal(payload)
    except InvalidInput as error:
        problems = error.problems
    if signal is None:
        assert problems
        assert all(isinstance(p, FieldProblem) and p.field and p.problem for p in problems)
    else:
        assert check_signal(signal) == []
        assert signal.side is None or isinstance(signal.side, Side)
        assert isinstance(signal.order_type, OrderType)
        for size in (signal.quantity, signal.notional, signal.target_position):
            assert size is None or isinstance(size, Decimal)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=signal_like)
def test_any_json_like_dict_parses_into_a_valid_signal_or_raises_invalid_input(
    payload: dict[str, Any],
) -> None:
    _assert_parses_or_is_refused(payload)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=signal_like)
def test_any_json_like_body_parses_into_a_valid_signal_or_raises_invalid_input(
    payload: dict[str, Any],
) -> None:
    _assert_parses_or_is_refused(json.dumps(payload).encode())


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=60))
def test_arbitrary_bytes_parse_or_raise_invalid_input(body: bytes) -> None:
    _assert_parses_or_is_refused(body)

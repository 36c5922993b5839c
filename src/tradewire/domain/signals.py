"""Signals: what a strategy wants. A signal is not an order.

`parse_signal` is the one validation path every front end uses (HTTP, Python API, CLI, Redis).
It collects every problem it finds, each naming the field, what was wrong and what is accepted.
"""

import re
from decimal import Decimal
from typing import Any

import msgspec

from tradewire.domain.enums import OrderType, Side, TimeInForce
from tradewire.domain.errors import FieldProblem, InvalidInput

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:\-]{0,63}$")
NAME_ACCEPTED = "1-64 characters: letters, digits and . _ / : - (starting with a letter or digit)"
KEY_MAX_LENGTH = 128
MAX_DIGITS = 15
"""Numbers of 1e15 or more are refused: no instrument trades such sizes or prices."""
NUMBER_ACCEPTED = 'a positive decimal number as a JSON string or number, e.g. "1.25"'
PRICE_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})


class Signal(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """An order intent (side + quantity or notional) or a target position for one instrument."""

    strategy: str
    instrument: str
    account: str | None = None
    side: Side | None = None
    quantity: Decimal | None = None
    notional: Decimal | None = None
    """Size in the quote currency; converted to quantity at the reference price."""
    target_position: Decimal | None = None
    """Signed position the strategy wants to hold; the engine sends the delta."""
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    signal_price: Decimal | None = None
    """The price the strategy saw when it decided: the reference for slippage."""
    idempotency_key: str | None = None
    """A repeated key returns the first result and sends nothing."""
    reduce_only: bool = False


FIELD_ACCEPTED: dict[str, str] = {
    "strategy": NAME_ACCEPTED,
    "instrument": "the ID of a configured instrument",
    "account": NAME_ACCEPTED,
    "side": "one of: " + ", ".join(Side),
    "quantity": NUMBER_ACCEPTED,
    "notional": NUMBER_ACCEPTED,
    "target_position": 'a decimal number (negative for short), e.g. "-2.5"',
    "order_type": "one of: " + ", ".join(OrderType),
    "limit_price": NUMBER_ACCEPTED,
    "stop_price": NUMBER_ACCEPTED,
    "time_in_force": "one of: " + ", ".join(TimeInForce),
    "signal_price": NUMBER_ACCEPTED,
    "idempotency_key": f"a string of 1-{KEY_MAX_LENGTH} characters",
    "reduce_only": "true or false",
}
KNOWN_FIELDS = ", ".join(FIELD_ACCEPTED)
_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_UNKNOWN = re.compile(r"unknown field `([^`]*)`")


def parse_signal(payload: bytes | str | dict[str, Any] | Signal) -> Signal:
    """Decode and check a signal; raise `InvalidInput` naming every problem."""
    try:
        if isinstance(payload, dict):  # the Python API's usual form, so tested first
            _refuse_floats(payload)
            signal = msgspec.convert(payload, Signal)
        elif isinstance(payload, bytes | str):
            signal = msgspec.json.decode(payload, type=Signal)
        elif isinstance(payload, Signal):
            # A Signal built in Python is not type-checked by its constructor: check it like a dict.
            fields = msgspec.structs.asdict(payload)
            _refuse_floats(fields)
            signal = msgspec.convert(fields, Signal)
        else:
            raise InvalidInput([FieldProblem("body", "is not an object", "a JSON object or dict")])
    except msgspec.ValidationError as error:
        raise InvalidInput([_problem_from_msgspec(str(error))]) from error
    except msgspec.DecodeError as error:
        raise InvalidInput([FieldProblem("body", f"not valid JSON ({error})", "a JSON object")]) from error
    problems = check_signal(signal)
    if problems:
        raise InvalidInput(problems)
    return signal


def _refuse_floats(fields: dict[str, Any]) -> None:
    floats = [name for name, value in fields.items() if isinstance(value, float)]
    if floats:
        raise InvalidInput(
            [
                FieldProblem(name, f"{fields[name]!r} is a binary float, which is inexact", NUMBER_ACCEPTED)
                for name in floats
            ]
        )


def _problem_from_msgspec(message: str) -> FieldProblem:
    unknown = _UNKNOWN.search(message)
    if unknown:
        return FieldProblem(unknown.group(1), "is not a signal field", f"fields: {KNOWN_FIELDS}")
    path = _PATH.search(message)
    field = path.group(1) if path else "body"
    text = _PATH.sub("", message)
    if field == "body" and "Expected `object`" in text:
        return FieldProblem("body", text, "a JSON object with the signal's fields")
    if field.startswith("missing required field"):
        field = "body"
    missing = re.search(r"missing required field `([^`]*)`", text)
    if missing:
        field = missing.group(1)
        text = "is required"
    return FieldProblem(field, text, FIELD_ACCEPTED.get(field, "see the signal schema"))


def _too_large(value: Decimal) -> bool:
    """Not finite, or at least 1e15 in magnitude; `adjusted()` cannot overflow where `abs()` can."""
    return not value.is_finite() or value.adjusted() >= MAX_DIGITS


def _check_positive(name: str, value: Decimal | None, problems: list[FieldProblem]) -> None:
    if value is None:
        return
    if _too_large(value):
        problems.append(FieldProblem(name, f"{value} is not a finite number", NUMBER_ACCEPTED))
    elif value <= 0:
        problems.append(FieldProblem(name, f"must be greater than zero, got {value}", NUMBER_ACCEPTED))


def _check_name(name: str, value: str | None, problems: list[FieldProblem]) -> None:
    if value is not None and not NAME_PATTERN.match(value):
        problems.append(FieldProblem(name, f"{value!r} is not a valid name", NAME_ACCEPTED))


def check_signal(signal: Signal) -> list[FieldProblem]:
    """Every rule a signal must satisfy on its own, before any instrument or account is looked up."""
    problems: list[FieldProblem] = []
    _check_name("strategy", signal.strategy, problems)
    _check_name("account", signal.account, problems)
    if not signal.instrument or len(signal.instrument) > 64:
        problems.append(FieldProblem("instrument", "must be 1-64 characters", FIELD_ACCEPTED["instrument"]))
    quantity, notional, target = signal.quantity, signal.notional, signal.target_position
    one_size = (quantity is not None) + (notional is not None) + (target is not None) == 1
    if not one_size:
        sizes = [
            name
            for name, value in (("quantity", quantity), ("notional", notional), ("target_position", target))
            if value is not None
        ]
        given = ", ".join(sizes) or "none"
        problems.append(
            FieldProblem(
                "quantity",
                f"exactly one of quantity, notional or target_position is required (given: {given})",
                "quantity or notional with a side, or target_position without one",
            )
        )
    for name, value in (
        ("quantity", quantity),
        ("notional", notional),
        ("limit_price", signal.limit_price),
        ("stop_price", signal.stop_price),
        ("signal_price", signal.signal_price),
    ):
        if value is not None:
            _check_positive(name, value, problems)
    if target is not None and _too_large(target):
        problems.append(
            FieldProblem(
                "target_position",
                f"{target} is not a finite number",
                FIELD_ACCEPTED["target_position"],
            )
        )
    if target is not None and signal.side is not None:
        problems.append(
            FieldProblem(
                "side",
                "must be omitted with target_position (the engine derives it)",
                "no side with target_position",
            )
        )
    if target is None and signal.side is None and one_size:
        problems.append(FieldProblem("side", "is required with quantity or notional", FIELD_ACCEPTED["side"]))
    priced, stopped = signal.order_type in PRICE_TYPES, signal.order_type in STOP_TYPES
    if priced and signal.limit_price is None:
        problems.append(
            FieldProblem("limit_price", f"is required for a {signal.order_type} order", NUMBER_ACCEPTED)
        )
    if not priced and signal.limit_price is not None:
        problems.append(
            FieldProblem(
                "limit_price",
                f"is not used by a {signal.order_type} order",
                "omit it, or use order_type limit or stop_limit",
            )
        )
    if stopped and signal.stop_price is None:
        problems.append(
            FieldProblem("stop_price", f"is required for a {signal.order_type} order", NUMBER_ACCEPTED)
        )
    if not stopped and signal.stop_price is not None:
        problems.append(
            FieldProblem(
                "stop_price",
                f"is not used by a {signal.order_type} order",
                "omit it, or use order_type stop or stop_limit",
            )
        )
    key = signal.idempotency_key
    if key is not None and not 1 <= len(key) <= KEY_MAX_LENGTH:
        problems.append(
            FieldProblem("idempotency_key", f"has {len(key)} characters", FIELD_ACCEPTED["idempotency_key"])
        )
    return problems

"""The JSON bodies the risk, kill-switch and amend routes read, and who sent them.

Each body is a msgspec struct, so its OpenAPI schema is generated from the struct that decodes it.
Decimals are read from the JSON text (a string or a number) without passing through a float.
Every problem found raises `InvalidInput` naming the field, as the signal route does.
"""

import re
from decimal import Decimal
from typing import Annotated, Literal, TypeVar

import msgspec
from fastapi import Header

from tradewire.domain.enums import AssetClass, TradingState
from tradewire.domain.errors import FieldProblem, InvalidInput
from tradewire.domain.limits import PORTFOLIO, Limits

B = TypeVar("B", bound=msgspec.Struct)

MAX_BODY_BYTES = 16 * 1024
"""These bodies are a few hundred bytes."""
MAX_DIGITS = 15
"""Numbers of 1e15 or more are refused, as in signals."""
LARGEST: int = 10**MAX_DIGITS
OPERATOR_ACCEPTED = "1-64 characters: letters, digits and . _ @ -"
SCOPE_ACCEPTED = "portfolio, account:<account id>, strategy:<strategy id> or venue:<venue id>"
REASON_ACCEPTED = "1-500 characters, not only spaces"
DECIMAL_ACCEPTED = 'a decimal number as a JSON string or number, e.g. "1.25"'
ACCEPTED = {
    "body": "a JSON object",
    "scope": SCOPE_ACCEPTED,
    "reason": REASON_ACCEPTED,
    "state": "halted or reducing",
    "flatten": "true or false",
    "cancel_working": "true or false",
    "limits": "an object with the fields: " + ", ".join(Limits.__struct_fields__),
    "quantity": 'a positive decimal number, e.g. "8"',
    "limit_price": 'a positive decimal number, e.g. "1.10"',
    "stop_price": 'a positive decimal number, e.g. "1.10"',
}

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Operator = Annotated[
    str | None,
    Header(
        alias="X-Operator",
        pattern=r"^[A-Za-z0-9._@-]{1,64}$",
        description="Who is making the change (" + OPERATOR_ACCEPTED + "); journaled as api:<name>.",
    ),
]
"""Read by the routes that change something; FastAPI's check turns a bad one into a 422."""

_PATH = re.compile(r" - at `(?:key` in `)?\$\.?([^`]*)`$")
_UNKNOWN = re.compile(r"unknown field `([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]*)`")
_NON_FINITE = re.compile(r"^[+-]?(s?nan\d*|inf|infinity)$", re.IGNORECASE)


class LimitsChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Replace one scope's limits: every limit not given is removed (no limit)."""

    scope: str
    limits: Limits


class KillSwitchRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    """Why: journaled with who engaged it."""
    scope: str = str(PORTFOLIO)
    state: Literal["halted", "reducing"] | None = None
    """halted: no new orders; reducing: only orders that reduce a position. Default: halted, or
    reducing with `flatten` (halted would deny the flatten orders)."""
    flatten: bool = False
    """Also cancel the scope's working orders and send reduce-only market orders closing its positions."""
    cancel_working: bool = True
    """Cancel the scope's working orders (flatten always does)."""


class ResumeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    scope: str = str(PORTFOLIO)


class AmendRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """At least one field; the amended order passes the risk gate like a new one."""

    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


def changed_by(operator: str | None) -> str:
    """What the journal records as the author of a change made through the API."""
    return "api" if operator is None else f"api:{operator}"


def decode(body: bytes, kind: type[B]) -> B:
    """Decode and check one body; raise `InvalidInput` naming every problem found."""
    non_finite = _non_finite(_untyped(body), "")
    try:
        value = msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as error:
        raise InvalidInput(non_finite or [_problem(str(error))]) from error
    except msgspec.DecodeError as error:
        raise InvalidInput([FieldProblem("body", f"not valid JSON ({error})", "a JSON object")]) from error
    except ArithmeticError as error:  # a struct's own checks compared a NaN
        if not non_finite:
            raise
        raise InvalidInput(non_finite) from error
    named = {problem.field for problem in non_finite}
    problems = non_finite + [problem for problem in _check(value) if problem.field not in named]
    if problems:
        raise InvalidInput(problems)
    return value


def kill_switch_state(request: KillSwitchRequest) -> TradingState:
    if request.state is None:
        return TradingState.REDUCING if request.flatten else TradingState.HALTED
    return TradingState(request.state)


def _untyped(body: bytes) -> object:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None  # the typed decode says what is wrong


def _non_finite(node: object, path: str) -> list[FieldProblem]:
    """Every string in the body that reads as NaN or infinity, by its field."""
    if isinstance(node, dict):
        return [
            problem
            for key, value in node.items()
            for problem in _non_finite(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(node, str) and _NON_FINITE.match(node.strip()):
        return [FieldProblem(path or "body", f"{node!r} is not a finite number", DECIMAL_ACCEPTED)]
    return []


def _problem(message: str) -> FieldProblem:
    path = _PATH.search(message)
    prefix = path.group(1) if path else ""
    text = _PATH.sub("", message)
    unknown = _UNKNOWN.search(text)
    if unknown:
        field = ".".join(filter(None, (prefix, unknown.group(1))))
        return FieldProblem(field, "is not a known field", ACCEPTED.get(prefix or "body", "see /docs"))
    missing = _MISSING.search(text)
    if missing:
        field = ".".join(filter(None, (prefix, missing.group(1))))
        return FieldProblem(field, "is required", ACCEPTED.get(field, "see /docs"))
    field = prefix or "body"
    named = text.split(" ", 1)[0]
    if field == "limits" and named in Limits.__struct_fields__:
        field = f"limits.{named}"  # a check of the limits themselves names the limit it refused
    top = field.split(".")[0]
    accepted = ACCEPTED.get(field, "")
    if not accepted and field.startswith("limits."):
        accepted = _limit_accepted(field.removeprefix("limits."))
    return FieldProblem(field, text, accepted or ACCEPTED.get(top, "see /docs"))


def _limit_accepted(name: str) -> str:
    if name in ("max_gross_exposure", "max_net_exposure"):
        return "an object of asset class to amount; classes: " + ", ".join(AssetClass)
    if name in ("max_open_orders", "order_burst"):
        return "a whole number"
    return 'a positive decimal number as a JSON string or number, e.g. "1.25"'


def _check(value: msgspec.Struct) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if isinstance(value, AmendRequest):
        given = {name: getattr(value, name) for name in value.__struct_fields__}
        for name, number in given.items():
            if number is not None and (_out_of_range(number) or number <= 0):
                problems.append(
                    FieldProblem(name, f"must be a positive number, got {number}", ACCEPTED[name])
                )
        if all(number is None for number in given.values()):
            problems.append(
                FieldProblem("body", "names nothing to change", "at least one of: " + ", ".join(given))
            )
    if isinstance(value, KillSwitchRequest | ResumeRequest) and not value.reason.strip():
        problems.append(FieldProblem("reason", "is only spaces", REASON_ACCEPTED))
    if isinstance(value, KillSwitchRequest) and value.flatten:
        if value.state == "halted":
            problems.append(
                FieldProblem("state", "halted would deny the flatten orders", "reducing, or omit it")
            )
        if not value.cancel_working:
            problems.append(
                FieldProblem("cancel_working", "flatten always cancels working orders", "true, or omit it")
            )
    if isinstance(value, LimitsChange):
        problems.extend(_check_limits(value.limits))
    return problems


def _check_limits(limits: Limits) -> list[FieldProblem]:
    """A negative or absurdly large limit is a typo (the domain's own checks may say more)."""
    problems = []
    for name in limits.__struct_fields__:
        number = getattr(limits, name)
        numbers = number.items() if isinstance(number, dict) else [("", number)]
        for key, amount in numbers:
            if amount is not None and (_out_of_range(amount) or amount < 0):
                field = f"limits.{name}" + (f".{key}" if key else "")
                problems.append(FieldProblem(field, f"{amount} is out of range", _limit_accepted(name)))
    return problems


def _out_of_range(number: Decimal | int) -> bool:
    """Not finite, or 1e15 or more in magnitude (refused as in signals)."""
    if isinstance(number, int):
        return abs(number) >= LARGEST
    return not number.is_finite() or number.adjusted() >= MAX_DIGITS

"""Decimal values and the one place where rounding to tick and lot happens.

Prices, quantities and money are `Decimal` built from strings; a float never enters a value.
Rounding is directional: a buy limit rounds down and a sell limit rounds up (never pay more than
asked), quantities round down to the lot (never trade more than asked).
"""

from decimal import Decimal, InvalidOperation

from tradewire.domain.enums import Side

ZERO = Decimal(0)


def to_decimal(value: object) -> Decimal:
    """A Decimal from a string, int or Decimal; floats are refused because they are inexact."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation as error:
            raise ValueError(f"{value!r} is not a decimal number") from error
    else:
        raise TypeError(f"{type(value).__name__} is not accepted; pass a string or Decimal")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` that is <= `value`.

    Computed from the exact remainder: dividing first would round in the 28-digit context and
    could step over the boundary (0.9999999999999999999999999999 on a 0.25 tick is not 1)."""
    remainder = value % step  # exact; has the sign of `value`
    if remainder == 0:
        return value  # already on the grid: keep the caller's digits ("0.01", not "0.01000")
    if remainder < 0:
        remainder += step
    return value - remainder


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of `step` that is >= `value`."""
    return -floor_to_step(-value, step)


def truncate_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The multiple of `step` nearest to zero on the same side: `value` rounded toward zero."""
    remainder = value % step
    return value if remainder == 0 else value - remainder


def is_on_step(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def round_quantity(quantity: Decimal, lot_size: Decimal) -> Decimal:
    """Quantities round toward zero to the lot: never trade more than was asked for."""
    return truncate_to_step(quantity, lot_size)


def round_price_passive(price: Decimal, tick_size: Decimal, side: Side) -> Decimal:
    """A limit price rounded to the tick in the direction that never worsens it for us.

    A buy rounds down (pay at most what was asked), a sell rounds up (receive at least).
    """
    if side is Side.BUY:
        return floor_to_step(price, tick_size)
    return ceil_to_step(price, tick_size)


def normalize(value: Decimal) -> Decimal:
    """Strip trailing zeros for display and digests while keeping integers integral."""
    if value == 0:
        return ZERO
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normalized.quantize(Decimal(1))
    return normalized

"""A denial: our own refusal of a signal or order, with a reason code and the numbers behind it."""

import msgspec


class Denial(msgspec.Struct, frozen=True):
    code: str
    """Stable machine-readable reason, e.g. `quantity_below_minimum`, `trading_halted`."""
    reason: str
    """For people: says what was compared with what, e.g. "quantity 0.5 < minimum 1 for AAPL"."""

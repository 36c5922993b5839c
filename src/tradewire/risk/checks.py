"""Pre-trade checks: each a pure function returning a `Denial` (with the numbers) or None.

The gate runs every check on every order that would reach a venue; no path skips it.
"""

from decimal import Decimal

import msgspec

from tradewire.domain.denials import Denial
from tradewire.domain.enums import Side, TradingState
from tradewire.domain.events import OrderSpec
from tradewire.domain.instruments import Instrument
from tradewire.domain.values import normalize


class Exposure(msgspec.Struct, frozen=True, kw_only=True):
    """What the account already has on this instrument, for worst-case checks."""

    position: Decimal
    """Signed account position."""
    working_buy: Decimal
    """Quantity still working on buy orders."""
    working_sell: Decimal
    open_orders: int
    """Open orders across the account."""


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True):
    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_position_quantity: Decimal | None = None
    """Worst case: position plus every open order on the same side, plus this order."""
    max_open_orders: int | None = None


def _fmt(value: Decimal) -> str:
    return str(normalize(value))


def reduces_position(spec: OrderSpec, exposure: Exposure) -> bool:
    """True when the order, even fully filled with every working order on its side, only shrinks
    the position toward zero."""
    if spec.side is Side.BUY:
        return exposure.position < 0 and exposure.working_buy + spec.quantity <= -exposure.position
    return exposure.position > 0 and exposure.working_sell + spec.quantity <= exposure.position


def check_trading_state(state: TradingState, spec: OrderSpec, exposure: Exposure) -> Denial | None:
    if state is TradingState.HALTED:
        return Denial("trading_halted", "trading is halted by the kill switch; only cancels pass")
    if state is TradingState.REDUCING and not reduces_position(spec, exposure):
        return Denial(
            "trading_reducing",
            f"trading is reducing-only and this {spec.side} of {_fmt(spec.quantity)} "
            f"{spec.instrument} would not reduce position {_fmt(exposure.position)}",
        )
    return None


def check_reduce_only(spec: OrderSpec, exposure: Exposure) -> Denial | None:
    if spec.reduce_only and not reduces_position(spec, exposure):
        return Denial(
            "reduce_only_would_increase",
            f"reduce-only {spec.side} of {_fmt(spec.quantity)} {spec.instrument} would not reduce "
            f"position {_fmt(exposure.position)} (working buy {_fmt(exposure.working_buy)}, "
            f"sell {_fmt(exposure.working_sell)})",
        )
    return None


def check_order_size(
    spec: OrderSpec, instrument: Instrument, reference: Decimal | None, limits: RiskLimits
) -> Denial | None:
    if limits.max_order_quantity is not None and spec.quantity > limits.max_order_quantity:
        return Denial(
            "order_quantity_limit",
            f"order quantity {_fmt(spec.quantity)} > limit {_fmt(limits.max_order_quantity)} "
            f"{spec.instrument}, account {spec.account}",
        )
    if limits.max_order_notional is not None and reference is not None:
        notional = instrument.notional(spec.quantity, reference)
        if notional > limits.max_order_notional:
            return Denial(
                "order_notional_limit",
                f"order notional {_fmt(notional)} > limit {_fmt(limits.max_order_notional)} "
                f"{instrument.quote_currency}, {spec.instrument}, account {spec.account}",
            )
    return None


def check_position(spec: OrderSpec, exposure: Exposure, limits: RiskLimits) -> Denial | None:
    limit = limits.max_position_quantity
    if limit is None:
        return None
    if spec.side is Side.BUY:
        worst = exposure.position + exposure.working_buy + spec.quantity
    else:
        worst = -exposure.position + exposure.working_sell + spec.quantity
    if worst > limit and not reduces_position(spec, exposure):
        return Denial(
            "position_limit",
            f"position {_fmt(exposure.position)} + working {spec.side} "
            f"{_fmt(exposure.working_buy if spec.side is Side.BUY else exposure.working_sell)} "
            f"+ order {_fmt(spec.quantity)} > limit {_fmt(limit)} {spec.instrument}, "
            f"account {spec.account}",
        )
    return None


def check_open_orders(spec: OrderSpec, exposure: Exposure, limits: RiskLimits) -> Denial | None:
    if limits.max_open_orders is not None and exposure.open_orders >= limits.max_open_orders:
        return Denial(
            "open_orders_limit",
            f"open orders {exposure.open_orders} >= limit {limits.max_open_orders}, account {spec.account}",
        )
    return None

"""Sizing: a signal becomes a side, a quantity on the lot and prices on the tick, or a denial.

- `quantity` rounds toward zero to the lot step.
- `notional` becomes quantity at the reference price (the limit price, else the stop price, else
  the touch of the current quote, else the signal price), then rounds like a quantity.
- `target_position` becomes the delta between the target and what the strategy holds plus what
  its working orders would add; a delta under one lot is no action.
- Limit prices round to the tick in the direction that never worsens them (buy down, sell up);
  stop prices round so the stop triggers no earlier than asked (buy up, sell down). With the
  `reject` policy an off-grid price is an input error instead.
- Minimum and maximum quantity and minimum notional are enforced with a denial that shows the
  numbers.
"""

from decimal import Decimal
from typing import Literal

import msgspec

from tradewire.domain.denials import Denial
from tradewire.domain.enums import OrderType, Side
from tradewire.domain.errors import FieldProblem, InvalidInput
from tradewire.domain.instruments import Instrument
from tradewire.domain.market import Quote
from tradewire.domain.signals import Signal
from tradewire.domain.values import ceil_to_step, floor_to_step, normalize

OffGridPolicy = Literal["round", "reject"]


class SizedOrder(msgspec.Struct, frozen=True):
    side: Side
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    reference_price: Decimal | None


class NoAction(msgspec.Struct, frozen=True):
    reason: str


def _fmt(value: Decimal) -> str:
    return str(normalize(value))


def _price(
    name: str,
    price: Decimal | None,
    instrument: Instrument,
    round_up: bool,
    policy: OffGridPolicy,
) -> Decimal | None:
    if price is None:
        return None
    tick = instrument.tick_size
    if instrument.is_on_tick(price):
        return price
    below, above = floor_to_step(price, tick), ceil_to_step(price, tick)
    if policy == "reject":
        raise InvalidInput(
            [
                FieldProblem(
                    name,
                    f"{price} is not on the tick grid of {instrument.instrument_id} (tick {_fmt(tick)})",
                    f"a multiple of {_fmt(tick)}, e.g. {_fmt(below)} or {_fmt(above)}",
                )
            ]
        )
    return above if round_up else below


def size_signal(
    signal: Signal,
    instrument: Instrument,
    *,
    held: Decimal,
    working: Decimal,
    quote: Quote | None,
    policy: OffGridPolicy = "round",
) -> SizedOrder | NoAction | Denial:
    """Size one signal. `held` is the strategy's position and `working` the signed quantity its
    open orders on this instrument would still add; both only matter for a target position."""
    side = signal.side
    if signal.target_position is not None:
        delta = signal.target_position - held - working
        lots = instrument.round_quantity(abs(delta))
        if lots == 0:
            return NoAction(
                f"target {_fmt(signal.target_position)} is within one lot of position "
                f"{_fmt(held)} + working {_fmt(working)}"
            )
        side = Side.BUY if delta > 0 else Side.SELL
    if side is None:
        raise ValueError("a signal without a target position needs a side (check_signal ensures it)")
    limit_price = _price("limit_price", signal.limit_price, instrument, side is Side.SELL, policy)
    stop_price = _price("stop_price", signal.stop_price, instrument, side is Side.BUY, policy)
    reference = _reference_price(signal, side, limit_price, stop_price, quote)
    if signal.target_position is not None:
        quantity = instrument.round_quantity(abs(signal.target_position - held - working))
    elif signal.quantity is not None:
        quantity = instrument.round_quantity(signal.quantity)
    elif signal.notional is not None:
        if reference is None:
            return Denial(
                "no_reference_price",
                f"cannot convert notional {_fmt(signal.notional)} to a quantity: no quote for "
                f"{instrument.instrument_id} and no limit, stop or signal price given",
            )
        quantity = instrument.round_quantity(signal.notional / (reference * instrument.multiplier))
    else:
        raise ValueError("a signal needs a quantity, notional or target position (check_signal ensures it)")
    denial = check_size(instrument, quantity, reference)
    if denial is not None:
        return denial
    return SizedOrder(side, quantity, limit_price, stop_price, reference)


def _reference_price(
    signal: Signal,
    side: Side,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
    quote: Quote | None,
) -> Decimal | None:
    if signal.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return limit_price
    if signal.order_type is OrderType.STOP:
        return stop_price
    if quote is not None:
        return quote.touch(side)
    return signal.signal_price


def check_size(instrument: Instrument, quantity: Decimal, reference: Decimal | None) -> Denial | None:
    name = instrument.instrument_id
    if quantity < instrument.min_quantity:
        return Denial(
            "quantity_below_minimum",
            f"quantity {_fmt(quantity)} (after rounding to lot {_fmt(instrument.lot_size)}) "
            f"< minimum {_fmt(instrument.min_quantity)} for {name}",
        )
    if instrument.max_quantity is not None and quantity > instrument.max_quantity:
        return Denial(
            "quantity_above_maximum",
            f"quantity {_fmt(quantity)} > maximum {_fmt(instrument.max_quantity)} for {name}",
        )
    if instrument.min_notional is not None and reference is not None:
        notional = instrument.notional(quantity, reference)
        if notional < instrument.min_notional:
            return Denial(
                "notional_below_minimum",
                f"notional {_fmt(notional)} {instrument.quote_currency} "
                f"< minimum {_fmt(instrument.min_notional)} for {name}",
            )
    return None


def reference_price(signal: Signal, quote: Quote | None) -> Decimal | None:
    """The price a signal's size is valued at before its side is known for certain."""
    if signal.limit_price is not None:
        return signal.limit_price
    if signal.stop_price is not None:
        return signal.stop_price
    if quote is not None:
        return quote.touch(signal.side) if signal.side is not None else quote.mid
    return signal.signal_price

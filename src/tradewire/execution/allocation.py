"""Fan-out: one signal becomes one child signal per account, by an allocation rule. Pure.

Rules (per strategy, in the config):
- `weights`: the signal's size is split in proportion to each account's weight;
- `capital`: the same, with each account's configured capital as its weight;
- `fixed`: each account trades its own configured quantity; the signal gives only the direction
  (its side, or the sign of its target position: a target of zero flattens every account).
Splitting works in whole lots: each account gets the lots its share rounds down to, and the lots
left over go one at a time to the accounts with the largest fractional share, ties broken by
account ID, so the same signal always splits the same way and the children add up to the total.
An account whose share rounds to zero lots gets no order. A `notional` is turned into a quantity
at the reference price before it is split; a `target_position` is split as a target, and each
account then trades the difference from what its strategy holds there.
"""

from decimal import ROUND_FLOOR, Decimal
from typing import Literal

import msgspec

from tradewire.domain.denials import Denial
from tradewire.domain.ids import AccountId
from tradewire.domain.instruments import Instrument
from tradewire.domain.signals import Signal
from tradewire.domain.values import normalize

Method = Literal["weights", "capital", "fixed"]


class Allocation(msgspec.Struct, frozen=True, kw_only=True):
    method: Method
    accounts: dict[AccountId, Decimal]
    """Weights, capitals or fixed quantities, by account."""


def split_lots(total: Decimal, lot: Decimal, weights: dict[AccountId, Decimal]) -> dict[AccountId, Decimal]:
    """`total` (rounded down to whole lots) in proportion to `weights`, largest remainders first."""
    lots = int((total / lot).to_integral_value(rounding=ROUND_FLOOR))
    weight_sum = sum(weights.values(), Decimal(0))
    shares = {account: Decimal(lots) * weight / weight_sum for account, weight in weights.items()}
    whole = {account: int(share.to_integral_value(rounding=ROUND_FLOOR)) for account, share in shares.items()}
    left = lots - sum(whole.values())
    for account in sorted(shares, key=lambda a: (-(shares[a] - whole[a]), a))[:left]:
        whole[account] += 1
    return {account: count * lot for account, count in whole.items()}


def allocate(
    signal: Signal, allocation: Allocation, instrument: Instrument, reference: Decimal | None
) -> list[tuple[AccountId, Signal]] | Denial:
    """The child signals, each naming its account, in account order."""
    if allocation.method == "fixed":
        return _fixed(signal, allocation)
    weights = {a: w for a, w in allocation.accounts.items() if w > 0}
    if signal.target_position is not None:
        targets = _split_signed(signal.target_position, instrument.lot_size, weights)
        return [
            (account, msgspec.structs.replace(signal, account=account, target_position=target))
            for account, target in sorted(targets.items())
        ]
    total = signal.quantity
    if total is None and signal.notional is not None:
        if reference is None:
            return Denial(
                "no_reference_price",
                f"cannot split notional {normalize(signal.notional)} across accounts: no price for "
                f"{instrument.instrument_id}",
            )
        total = signal.notional / (reference * instrument.multiplier)
    if total is None:
        return Denial("no_size", "the signal has no quantity, notional or target position")
    quantities = split_lots(total, instrument.lot_size, weights)
    return [
        (account, msgspec.structs.replace(signal, account=account, quantity=quantity, notional=None))
        for account, quantity in sorted(quantities.items())
        if quantity > 0
    ]


def _split_signed(
    total: Decimal, lot: Decimal, weights: dict[AccountId, Decimal]
) -> dict[AccountId, Decimal]:
    sign = -1 if total < 0 else 1
    return {account: share * sign for account, share in split_lots(abs(total), lot, weights).items()}


def _fixed(signal: Signal, allocation: Allocation) -> list[tuple[AccountId, Signal]]:
    children = []
    for account, quantity in sorted(allocation.accounts.items()):
        if signal.target_position is not None:
            target = (
                quantity
                if signal.target_position > 0
                else -quantity
                if signal.target_position < 0
                else Decimal(0)
            )
            child = msgspec.structs.replace(signal, account=account, target_position=target)
        else:
            child = msgspec.structs.replace(signal, account=account, quantity=quantity, notional=None)
        children.append((account, child))
    return children

"""Internal crossing: opposite intents for one account and instrument that meet inside the engine
(signals submitted together) are matched against each other, and only the net goes to the venue.

Pure: given the sized intents of a batch, in batch order, it says how much of each is crossed
internally and how much is left for the venue. Buys and sells are matched first come, first
served on each side, so the split is reproducible. Only market orders cross (a limit order states
a price the other side did not agree to).
"""

from decimal import Decimal

import msgspec

from tradewire.domain.enums import OrderType, Side
from tradewire.domain.values import ZERO


class Intent(msgspec.Struct, frozen=True, kw_only=True):
    key: int
    """The caller's index for this intent."""
    side: Side
    quantity: Decimal
    order_type: OrderType


class Split(msgspec.Struct, frozen=True, kw_only=True):
    key: int
    crossed: Decimal
    residual: Decimal


def cross(intents: list[Intent]) -> list[Split]:
    """How much of each intent is crossed internally, and what is left for the venue."""
    crossable = [i for i in intents if i.order_type is OrderType.MARKET]
    buys = sum((i.quantity for i in crossable if i.side is Side.BUY), ZERO)
    sells = sum((i.quantity for i in crossable if i.side is Side.SELL), ZERO)
    budget = {Side.BUY: min(buys, sells), Side.SELL: min(buys, sells)}
    splits = []
    for intent in intents:
        crossed = ZERO
        if intent.order_type is OrderType.MARKET:
            crossed = min(intent.quantity, budget[intent.side])
            budget[intent.side] -= crossed
        splits.append(Split(key=intent.key, crossed=crossed, residual=intent.quantity - crossed))
    return splits

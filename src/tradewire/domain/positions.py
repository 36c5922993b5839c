"""Positions: signed quantity, average price, realized P&L and fees, from fills alone.

Average-cost accounting: adding to a position moves the average price; reducing it realizes
(fill price - average price) * closed quantity * multiplier; crossing through zero closes the old
side at the average and opens the rest at the fill price. Fees are kept apart from P&L and in the
instrument's quote currency (a fee charged in another currency is recorded on the fill as charged).
"""

from decimal import Decimal

from tradewire.domain.enums import Side
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId
from tradewire.domain.values import ZERO


class Position:
    __slots__ = (
        "account",
        "average_price",
        "bought",
        "fees",
        "fill_count",
        "instrument",
        "multiplier",
        "quantity",
        "realized_pnl",
        "sold",
        "strategy",
    )

    def __init__(
        self,
        account: AccountId,
        instrument: InstrumentId,
        strategy: StrategyId | None = None,
        multiplier: Decimal = Decimal(1),
    ) -> None:
        self.account = account
        self.instrument = instrument
        self.strategy = strategy
        self.multiplier = multiplier
        self.quantity = ZERO
        self.average_price: Decimal | None = None
        self.realized_pnl = ZERO
        self.fees = ZERO
        self.bought = ZERO
        self.sold = ZERO
        self.fill_count = 0

    def apply_fill(self, side: Side, quantity: Decimal, price: Decimal, fee: Decimal) -> Decimal:
        """Apply one fill; returns the P&L it realized (before fees)."""
        signed = quantity if side is Side.BUY else -quantity
        held = self.quantity
        realized = ZERO
        if held == 0 or (held > 0) == (signed > 0):
            average = self.average_price or ZERO
            self.average_price = (average * abs(held) + price * quantity) / (abs(held) + quantity)
        else:
            closed = min(quantity, abs(held))
            direction = 1 if held > 0 else -1
            realized = (price - (self.average_price or price)) * closed * direction * self.multiplier
            if quantity > abs(held):
                self.average_price = price
            elif quantity == abs(held):
                self.average_price = None
        self.quantity = held + signed
        self.realized_pnl += realized
        self.fees += fee
        if side is Side.BUY:
            self.bought += quantity
        else:
            self.sold += quantity
        self.fill_count += 1
        return realized

    def unrealized_pnl(self, mark_price: Decimal | None) -> Decimal | None:
        if self.quantity == 0:
            return ZERO
        if mark_price is None or self.average_price is None:
            return None
        return (mark_price - self.average_price) * self.quantity * self.multiplier

    @property
    def net_realized_pnl(self) -> Decimal:
        return self.realized_pnl - self.fees

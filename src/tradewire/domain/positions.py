"""Positions: signed quantity, cost basis, realized P&L and fees, from fills alone.

Average-cost accounting kept exactly: the position holds its signed cost basis (the sum of
price * signed quantity of what is open). Adding moves the cost; reducing removes the closed
share of the cost and realizes (fill price * closed quantity - cost removed) * multiplier; crossing
zero closes everything and opens the rest at the fill price. Because realized P&L and the cost
basis move by the same amount whatever rounding the closed share needs, realized + unrealized P&L
always equals the exact sum of every fill's P&L at the mark. Fees are kept apart from P&L, in the
instrument's quote currency (a fee charged in another currency is recorded on the fill as charged).
"""

from decimal import Context, Decimal, getcontext, localcontext, setcontext

from tradewire.domain.enums import Side
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId
from tradewire.domain.values import ZERO

EXACT = Context(prec=50)
"""Wide enough that sums and products of realistic prices and quantities never round."""
_COST_QUANTUM = Decimal("1e-16")
"""The closed share of the cost basis is the only division; it is rounded here, once, so the
subtraction that follows stays exact."""
_BUY = Side.BUY


class Position:
    __slots__ = (
        "account",
        "bought",
        "cost",
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
        self.cost = ZERO
        """Signed cost basis of the open quantity (price * signed quantity, before multiplier)."""
        self.realized_pnl = ZERO
        self.fees = ZERO
        self.bought = ZERO
        self.sold = ZERO
        self.fill_count = 0

    @property
    def average_price(self) -> Decimal | None:
        return None if self.quantity == 0 else self.cost / self.quantity

    def apply_fill(self, side: Side, quantity: Decimal, price: Decimal, fee: Decimal) -> Decimal:
        """Apply one fill; returns the P&L it realized (before fees)."""
        outer = getcontext()
        # Not `localcontext(EXACT)`: that copies the context, and replay applies two positions
        # per fill. Nothing here reads the context's flags, so sharing the one context is safe.
        setcontext(EXACT)
        try:
            return self.apply_fill_exactly(side, quantity, price, fee)
        finally:
            setcontext(outer)

    def apply_fill_exactly(self, side: Side, quantity: Decimal, price: Decimal, fee: Decimal) -> Decimal:
        """`apply_fill` for a caller that has set the decimal context to `EXACT` (a portfolio applies
        each fill to two positions under one context switch)."""
        signed = quantity if side is _BUY else -quantity
        held = self.quantity
        realized = ZERO
        # Compared with ZERO, not 0: a Decimal compares with an int at twice the cost.
        if not held or (held > ZERO) == (signed > ZERO):
            self.cost += price * signed
        else:
            closed = min(quantity, abs(held))
            if closed == abs(held):
                removed = self.cost
            else:
                removed = (self.cost * closed / abs(held)).quantize(_COST_QUANTUM)
            direction = 1 if held > ZERO else -1
            realized = (price * closed * direction - removed) * self.multiplier
            self.cost -= removed
            if quantity > abs(held):
                self.cost = price * (signed + held)
        self.quantity = held + signed
        self.realized_pnl += realized
        self.fees += fee
        if side is _BUY:
            self.bought += quantity
        else:
            self.sold += quantity
        self.fill_count += 1
        return realized

    def unrealized_pnl(self, mark_price: Decimal | None) -> Decimal | None:
        if self.quantity == 0:
            return ZERO
        if mark_price is None:
            return None
        with localcontext(EXACT):
            return (mark_price * self.quantity - self.cost) * self.multiplier

    @property
    def net_realized_pnl(self) -> Decimal:
        return self.realized_pnl - self.fees

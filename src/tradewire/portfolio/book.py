"""The portfolio: every position, folded from fills. The account position is the net of its strategies."""

from collections.abc import Iterable
from decimal import Decimal, getcontext, setcontext

from tradewire.domain.events import OrderFilled
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId
from tradewire.domain.positions import EXACT, Position

AccountKey = tuple[AccountId, InstrumentId]
StrategyKey = tuple[AccountId, StrategyId, InstrumentId]


class Portfolio:
    def __init__(self) -> None:
        self.by_account: dict[AccountKey, Position] = {}
        self.by_strategy: dict[StrategyKey, Position] = {}

    def apply_fill(self, fill: OrderFilled) -> None:
        account_key = (fill.account, fill.instrument)
        position = self.by_account.get(account_key)
        if position is None:
            position = Position(fill.account, fill.instrument, None, fill.multiplier)
            self.by_account[account_key] = position
        strategy_key = (fill.account, fill.strategy, fill.instrument)
        attributed = self.by_strategy.get(strategy_key)
        if attributed is None:
            attributed = Position(fill.account, fill.instrument, fill.strategy, fill.multiplier)
            self.by_strategy[strategy_key] = attributed
        side, quantity, price, fee = fill.side, fill.quantity, fill.price, fill.fee
        outer = getcontext()
        setcontext(EXACT)  # once for both positions (see `Position.apply_fill`)
        try:
            position.apply_fill_exactly(side, quantity, price, fee)
            attributed.apply_fill_exactly(side, quantity, price, fee)
        finally:
            setcontext(outer)

    def account_quantity(self, account: AccountId, instrument: InstrumentId) -> Decimal:
        position = self.by_account.get((account, instrument))
        return position.quantity if position else Decimal(0)

    def strategy_quantity(
        self, account: AccountId, strategy: StrategyId, instrument: InstrumentId
    ) -> Decimal:
        position = self.by_strategy.get((account, strategy, instrument))
        return position.quantity if position else Decimal(0)

    def account_positions(self, account: AccountId | None = None) -> Iterable[Position]:
        return (p for p in self.by_account.values() if account is None or p.account == account)

    def strategy_positions(self, account: AccountId | None = None) -> Iterable[Position]:
        return (p for p in self.by_strategy.values() if account is None or p.account == account)

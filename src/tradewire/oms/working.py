"""Running totals of what open orders still work, kept as orders change.

A risk check reads them in time independent of how many orders are open (scanning every open
order per signal cost 8.9 ms at 5,000 resting orders). Keys are fine-grained (side, account,
strategy, instrument) so any scope can be summed from a handful of entries.
"""

from collections import defaultdict
from decimal import Decimal

from tradewire.domain.enums import OPEN_STATUSES, Side
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId, VenueId
from tradewire.domain.orders import Order
from tradewire.domain.values import ZERO

WorkingKey = tuple[Side, AccountId, StrategyId, InstrumentId]
OpenKey = tuple[AccountId, StrategyId, VenueId]


class WorkingBook:
    def __init__(self) -> None:
        self.quantities: defaultdict[WorkingKey, Decimal] = defaultdict(Decimal)
        self.open_counts: defaultdict[OpenKey, int] = defaultdict(int)

    def count(self, order: Order, sign: int) -> None:
        """Add (sign 1) or remove (sign -1) what `order` contributes."""
        if order.status not in OPEN_STATUSES:
            return
        self.open_counts[(order.account, order.strategy, order.venue)] += sign
        leaves = order.worst_case_leaves
        if leaves:
            self.quantities[(order.side, order.account, order.strategy, order.instrument)] += leaves * sign

    def working(
        self,
        side: Side,
        instrument: InstrumentId,
        account: AccountId | None = None,
        strategy: StrategyId | None = None,
    ) -> Decimal:
        total = ZERO
        for (key_side, key_account, key_strategy, key_instrument), quantity in self.quantities.items():
            if (
                key_side is side
                and key_instrument == instrument
                and (account is None or key_account == account)
                and (strategy is None or key_strategy == strategy)
            ):
                total += quantity
        return total

    def open_orders(
        self,
        account: AccountId | None = None,
        strategy: StrategyId | None = None,
        venue: VenueId | None = None,
    ) -> int:
        return sum(
            count
            for (key_account, key_strategy, key_venue), count in self.open_counts.items()
            if (account is None or key_account == account)
            and (strategy is None or key_strategy == strategy)
            and (venue is None or key_venue == venue)
        )

    def totals(self) -> tuple[dict[WorkingKey, Decimal], dict[OpenKey, int]]:
        """The non-zero totals, to compare with a recount in tests."""
        return (
            {key: value for key, value in self.quantities.items() if value},
            {key: value for key, value in self.open_counts.items() if value},
        )

    @classmethod
    def recount(cls, open_orders: list[Order]) -> "WorkingBook":
        book = cls()
        for order in open_orders:
            book.count(order, 1)
        return book

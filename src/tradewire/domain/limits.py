"""Risk limits as data: one set per scope (the whole portfolio, an account, a strategy).

Every level is enforced on its own: an order must pass the portfolio's limits, its account's and
its strategy's. `None` means no limit. Changes at run time are journaled (`RiskLimitsChanged`).
"""

from decimal import Decimal
from enum import StrEnum

import msgspec

from tradewire.domain.enums import AssetClass
from tradewire.domain.errors import FieldProblem, InvalidInput


class ScopeKind(StrEnum):
    PORTFOLIO = "portfolio"
    ACCOUNT = "account"
    STRATEGY = "strategy"
    VENUE = "venue"


class Scope(msgspec.Struct, frozen=True, order=True):
    kind: ScopeKind
    id: str | None = None

    def __str__(self) -> str:
        # `_value_` rather than `.value`: this runs several times per order (limit and kill-switch
        # lookups are keyed by the scope's name), and `.value` is a Python-level property.
        kind: str = self.kind._value_
        return kind if self.id is None else f"{kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> "Scope":
        """`portfolio`, `account:<id>`, `strategy:<id>` or `venue:<id>`."""
        kind, _, ident = text.partition(":")
        accepted = "portfolio, account:<account id>, strategy:<strategy id> or venue:<venue id>"
        try:
            scope_kind = ScopeKind(kind)
        except ValueError:
            raise InvalidInput([FieldProblem("scope", f"{text!r} is not a scope", accepted)]) from None
        if (scope_kind is ScopeKind.PORTFOLIO) != (ident == ""):
            raise InvalidInput([FieldProblem("scope", f"{text!r} is not a scope", accepted)])
        return cls(scope_kind, ident or None)


PORTFOLIO = Scope(ScopeKind.PORTFOLIO)


def order_scopes(account: str, strategy: str | None, venue: str) -> tuple[Scope, Scope, Scope, Scope]:
    """Every scope an order belongs to: the portfolio, its account, its strategy, its venue."""
    return (
        PORTFOLIO,
        Scope(ScopeKind.ACCOUNT, account),
        Scope(ScopeKind.STRATEGY, strategy),
        Scope(ScopeKind.VENUE, venue),
    )


class Limits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    """Quantity * price * multiplier, in the instrument's quote currency."""
    max_position_quantity: Decimal | None = None
    """Per instrument, worst case: position + every working order on the same side + this order."""
    max_position_notional: Decimal | None = None
    """The same worst case valued at the reference price, in the quote currency."""
    max_open_orders: int | None = None
    max_orders_per_second: Decimal | None = None
    """A token bucket: this many orders a second on average, bursts up to `order_burst`."""
    order_burst: int | None = None
    max_daily_loss: Decimal | None = None
    """Realized + unrealized P&L net of fees since the start of the trading day, as a positive
    number in the account's currency; breaching it denies new orders and engages the kill switch."""
    max_gross_exposure: dict[AssetClass, Decimal] = {}
    """Per asset class: sum of |position| notional, worst case with working orders, in the account's
    currency."""
    max_net_exposure: dict[AssetClass, Decimal] = {}
    price_collar_bps: Decimal | None = None
    """A limit or stop price further than this from the reference (mid) price is a fat finger."""
    max_spread_bps: Decimal | None = None
    max_touch_fraction: Decimal | None = None
    """An order larger than this fraction of the displayed size at the touch is denied."""
    max_quote_age_seconds: Decimal | None = None
    """An order priced off a quote older than this is denied (stale market data)."""

    def __post_init__(self) -> None:
        """Refuse negative limits (zero is a limit too: it blocks)."""
        for name in self.__struct_fields__:
            value = getattr(self, name)
            for item in value.values() if isinstance(value, dict) else [value]:
                if item is None:
                    continue
                if isinstance(item, Decimal) and not item.is_finite():
                    raise ValueError(f"{name} must be a finite number, got {item}")
                floor = 1 if name == "order_burst" else 0
                if item < floor:
                    raise ValueError(f"{name} must be at least {floor}, got {item}")


class LimitBook(msgspec.Struct, frozen=True):
    """Every scope's limits."""

    scopes: dict[str, Limits] = {}

    def get(self, scope: Scope) -> Limits | None:
        return self.scopes.get(str(scope))

    def with_limits(self, scope: Scope, limits: Limits) -> "LimitBook":
        return LimitBook({**self.scopes, str(scope): limits})

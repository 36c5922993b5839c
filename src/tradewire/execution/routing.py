"""Routing: which account, and so which venue, an order goes to, and why.

In order:
1. an `account` named by the signal;
2. the strategy's allocation across accounts (fan-out), when it has one;
3. the strategy's default account;
4. otherwise a venue is chosen among those that list the instrument and have an account:
   connected venues first, in the configured preference order (`routing.venue_preference`, per
   instrument or `"*"`); with `routing.best_price`, an order with a side goes to the venue with the
   best touch (lowest ask for a buy, highest bid for a sell; ties by preference). The order goes to
   the first account at that venue.
The account's venue must list the instrument. The reason is recorded on the order (`route`).
"""

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import msgspec

from tradewire.domain.denials import Denial
from tradewire.domain.enums import Side
from tradewire.domain.errors import FieldProblem, InvalidInput
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId, VenueId
from tradewire.domain.instruments import Catalog, Instrument
from tradewire.domain.market import QuoteBook
from tradewire.domain.signals import Signal
from tradewire.domain.values import normalize
from tradewire.execution.allocation import Allocation, allocate


class AccountConfig(msgspec.Struct, frozen=True, kw_only=True):
    account_id: AccountId
    venue: VenueId
    currency: str = "USD"
    crossing: bool = False
    """Cross opposite market intents of its strategies submitted together, sending only the net."""


class Router:
    def __init__(
        self,
        accounts: Mapping[AccountId, AccountConfig],
        strategy_accounts: Mapping[StrategyId, AccountId],
        allocations: Mapping[StrategyId, Allocation] | None = None,
        *,
        catalog: Catalog,
        quotes: QuoteBook | None = None,
        connected: Callable[[VenueId], bool] | None = None,
        venue_preference: Mapping[str, Sequence[str]] | None = None,
        best_price: bool = True,
    ) -> None:
        self.accounts = dict(accounts)
        self.strategy_accounts = dict(strategy_accounts)
        self.allocations = dict(allocations or {})
        self.catalog = catalog
        self.quotes = quotes or QuoteBook()
        self.connected = connected or (lambda _: True)
        self.preference = {
            key: [VenueId(v) for v in venues] for key, venues in (venue_preference or {}).items()
        }
        self.best_price = best_price
        self._first_accounts: dict[VenueId, AccountId] = {}
        """The first account at each venue, where a chosen venue's orders go."""
        for config in self.accounts.values():
            self._first_accounts.setdefault(config.venue, config.account_id)
        self._only_venue: dict[InstrumentId, tuple[AccountId, str]] = {}
        """Instruments only one venue with an account lists: their route depends on configuration
        alone (not on connections or quotes), so it is worked out once."""
        for strategy, allocation in self.allocations.items():
            unknown = sorted(set(allocation.accounts) - set(self.accounts))
            if unknown:
                raise ValueError(
                    f"allocation of strategy {strategy} names unknown accounts: {', '.join(unknown)}"
                )

    def fans_out(self, strategy: StrategyId) -> bool:
        return strategy in self.allocations

    def children(
        self, signal: Signal, strategy: StrategyId, instrument: Instrument, reference: Decimal | None
    ) -> list[tuple[AccountId, Signal, str]] | Denial:
        """One (account, signal, route) per order to create, the route saying why."""
        allocation = self.allocations.get(strategy)
        if signal.account is not None or allocation is None:
            account, why = self._one_account(signal, strategy, instrument.instrument_id)
            return [(account, signal, why)]
        children = allocate(signal, allocation, instrument, reference)
        if isinstance(children, Denial):
            return children
        routed = []
        for account, child in children:
            self._checked(self.accounts[account], instrument.instrument_id)  # its venue must list it
            venue = self.accounts[account].venue
            why = f"{allocation.method} allocation of strategy {strategy}"
            why += f"; {instrument.instrument_id} at {venue}"
            routed.append((account, child, why))
        return routed

    def _one_account(
        self, signal: Signal, strategy: StrategyId, instrument: InstrumentId
    ) -> tuple[AccountId, str]:
        if signal.account is not None:
            chosen = self._checked(self._named(signal.account), instrument)
            return chosen.account_id, f"account named by the signal; {instrument} at {chosen.venue}"
        default = self.strategy_accounts.get(strategy)
        if default is not None and default in self.accounts:
            chosen = self._checked(self.accounts[default], instrument)
            return (
                chosen.account_id,
                f"default account of strategy {strategy}; {instrument} at {chosen.venue}",
            )
        only = self._only_venue.get(instrument)
        if only is not None:
            return only
        venue, why = self._choose_venue(instrument, signal.side)
        account = self._first_accounts[venue]
        return account, f"{why}; its first account {account}"

    def _choose_venue(self, instrument: InstrumentId, side: Side | None) -> tuple[VenueId, str]:
        listed = self.catalog.venues_of(instrument)
        venues = [v for v in listed if v in self._first_accounts]
        if not venues:
            raise InvalidInput(
                [
                    FieldProblem(
                        "account",
                        f"no configured account trades at a venue listing {instrument}",
                        "configure an account at one of: " + (", ".join(listed) or "no venue lists it"),
                    )
                ]
            )
        preference = self.preference.get(instrument) or self.preference.get("*") or []
        ranked = sorted(
            venues,
            key=lambda v: (
                not self.connected(v),
                preference.index(v) if v in preference else len(preference),
            ),
        )
        if len(ranked) == 1:
            why = f"only venue listing {instrument}: {ranked[0]}"
            account = self._first_accounts[ranked[0]]
            self._only_venue[instrument] = (account, f"{why}; its first account {account}")
            return ranked[0], why
        up = [v for v in ranked if self.connected(v)] or ranked
        if self.best_price and side is not None:
            priced = [
                (quote.touch(side), v) for v in up if (quote := self.quotes.at(v, instrument)) is not None
            ]
            if priced:
                best = (
                    min(priced, key=lambda p: p[0]) if side is Side.BUY else max(priced, key=lambda p: p[0])
                )
                touch = "ask" if side is Side.BUY else "bid"
                others = ", ".join(f"{v} {normalize(price)}" for price, v in priced)
                return best[1], f"best {touch} {normalize(best[0])} at {best[1]} (of {others})"
        why = "preferred venue" if up[0] in preference else "first venue listing it"
        return up[0], f"{why} {up[0]}" + ("" if self.connected(up[0]) else " (none connected)")

    def _named(self, account: str) -> AccountConfig:
        chosen = self.accounts.get(AccountId(account))
        if chosen is None:
            raise InvalidInput(
                [FieldProblem("account", f"{account!r} is not a configured account", self._known())]
            )
        return chosen

    def _checked(self, account: AccountConfig, instrument: InstrumentId) -> AccountConfig:
        if not self.catalog.listed_at(account.venue, instrument):
            venues = ", ".join(self.catalog.venues_of(instrument))
            raise InvalidInput(
                [
                    FieldProblem(
                        "account",
                        f"account {account.account_id} trades at {account.venue}, "
                        f"which does not list {instrument}",
                        f"an account at a venue listing it: {venues}",
                    )
                ]
            )
        return account

    def _known(self) -> str:
        return (
            "one of: " + ", ".join(sorted(self.accounts)) if self.accounts else "no accounts are configured"
        )

"""Routing: which account (and so which venue) a signal's order goes to.

An explicit `account` in the signal wins; otherwise the strategy's configured default account;
otherwise the first configured account at the instrument's venue. The account must trade at the
instrument's venue.
"""

from collections.abc import Mapping
from decimal import Decimal

import msgspec

from tradewire.domain.denials import Denial
from tradewire.domain.errors import FieldProblem, InvalidInput
from tradewire.domain.ids import AccountId, StrategyId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.signals import Signal
from tradewire.execution.allocation import Allocation, allocate


class AccountConfig(msgspec.Struct, frozen=True, kw_only=True):
    account_id: AccountId
    venue: VenueId
    currency: str = "USD"


class Router:
    def __init__(
        self,
        accounts: Mapping[AccountId, AccountConfig],
        strategy_accounts: Mapping[StrategyId, AccountId],
        allocations: Mapping[StrategyId, Allocation] | None = None,
    ) -> None:
        self.accounts = dict(accounts)
        self.strategy_accounts = dict(strategy_accounts)
        self.allocations = dict(allocations or {})
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
        """One (account, signal, route) per order to create: the signal's own account, or the
        strategy's allocation across accounts when the signal names none. The route says why."""
        venue = f"{instrument.instrument_id} trades at {instrument.venue}"
        allocation = self.allocations.get(strategy)
        if signal.account is not None or allocation is None:
            account = self.account_for(signal.account, strategy, instrument).account_id
            return [(account, signal, f"{self._why(signal.account, strategy)}; {venue}")]
        children = allocate(signal, allocation, instrument, reference)
        if isinstance(children, Denial):
            return children
        for account, _ in children:
            self.account_for(account, strategy, instrument)  # trades at the instrument's venue
        why = f"{allocation.method} allocation of strategy {strategy}; {venue}"
        return [(account, child, why) for account, child in children]

    def _why(self, named: str | None, strategy: StrategyId) -> str:
        if named is not None:
            return "account named by the signal"
        if strategy in self.strategy_accounts:
            return f"default account of strategy {strategy}"
        return "first account at the venue"

    def account_for(self, account: str | None, strategy: StrategyId, instrument: Instrument) -> AccountConfig:
        if account is not None:
            chosen = self.accounts.get(AccountId(account))
            if chosen is None:
                raise InvalidInput(
                    [FieldProblem("account", f"{account!r} is not a configured account", self._known())]
                )
        else:
            default = self.strategy_accounts.get(strategy)
            at_venue = [a for a in self.accounts.values() if a.venue == instrument.venue]
            chosen = self.accounts.get(default) if default is not None else None
            if chosen is None and at_venue:
                chosen = at_venue[0]
            if chosen is None:
                raise InvalidInput(
                    [
                        FieldProblem(
                            "account",
                            f"no account trades at venue {instrument.venue} for {instrument.instrument_id}",
                            "configure an account for that venue, or name one",
                        )
                    ]
                )
        if chosen.venue != instrument.venue:
            raise InvalidInput(
                [
                    FieldProblem(
                        "account",
                        f"account {chosen.account_id} trades at {chosen.venue}, "
                        f"but {instrument.instrument_id} trades at {instrument.venue}",
                        f"an account at venue {instrument.venue}",
                    )
                ]
            )
        return chosen

    def _known(self) -> str:
        return (
            "one of: " + ", ".join(sorted(self.accounts)) if self.accounts else "no accounts are configured"
        )

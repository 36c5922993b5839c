"""Routing: which account (and so which venue) a signal's order goes to.

An explicit `account` in the signal wins; otherwise the strategy's configured default account;
otherwise the first configured account at the instrument's venue. The account must trade at the
instrument's venue.
"""

from collections.abc import Mapping

import msgspec

from tradewire.domain.errors import FieldProblem, InvalidInput
from tradewire.domain.ids import AccountId, StrategyId, VenueId
from tradewire.domain.instruments import Instrument


class AccountConfig(msgspec.Struct, frozen=True, kw_only=True):
    account_id: AccountId
    venue: VenueId
    currency: str = "USD"


class Router:
    def __init__(
        self,
        accounts: Mapping[AccountId, AccountConfig],
        strategy_accounts: Mapping[StrategyId, AccountId],
    ) -> None:
        self.accounts = dict(accounts)
        self.strategy_accounts = dict(strategy_accounts)

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

"""The risk gate: every order passes it before it is journaled as pending-new and sent.

Every scope an order belongs to (the portfolio, its account, its strategy, its venue) is checked
on its own, with that scope's limits and exposure. The first failure is the denial. An order that
passes takes a token from each scope's rate bucket; a denied one takes none.

The gate runs for every order, so it works out an order's scopes and looks their limits up once
per (account, strategy, venue) and limit book: a change of limits (`RiskLimitsChanged`) replaces the
ledger's `LimitBook`, which empties the lookups.
"""

from datetime import datetime

from tradewire.domain.denials import Denial
from tradewire.domain.limits import LimitBook, Limits, Scope, order_scopes
from tradewire.risk.checks import (
    check_daily_loss,
    check_exposure,
    check_market,
    check_open_orders,
    check_order_size,
    check_position,
    check_reduce_only,
    check_session,
    check_trading_state,
    check_venue_health,
)
from tradewire.risk.rate import TokenBucket
from tradewire.risk.view import OrderFacts, RiskView

_MAX_CACHED_SCOPES = 4096
"""Lookups kept per limit book; strategy IDs come from signals, so the set is not closed."""

OrderKey = tuple[str, str | None, str]
"""An order's account, strategy and venue: what decides its scopes."""
InForce = tuple[tuple[Scope, ...], tuple[Limits | None, ...]]
"""An order's scopes (as `OrderFacts.scopes`) and each one's limits."""


class RiskGate:
    def __init__(self) -> None:
        self._buckets: dict[Scope, TokenBucket] = {}
        self._book: LimitBook | None = None
        self._in_force: dict[OrderKey, InForce] = {}

    def check(self, facts: OrderFacts, limits: LimitBook, view: RiskView) -> Denial | None:
        """The first denial at any scope, or None when the order may go (and its tokens are taken)."""
        scopes, in_force = self._in_force_for(facts, limits)
        account_scope = scopes[1]
        denial = check_reduce_only(facts, account_scope, view)
        if denial is not None:
            return denial
        for scope, scope_limits in zip(scopes, in_force, strict=True):
            denial = check_trading_state(facts, scope, view)
            if denial is None and scope_limits is not None:
                denial = self._check_limits(facts, scope_limits, scope, view)
            if denial is not None:
                return denial
        denial = check_venue_health(facts, view)
        if denial is not None:
            return denial
        # Last, so that an order refused only because its session is closed passed everything else
        # and may be held for the open (docs/sessions.md); it is checked again when released.
        denial = check_session(facts, view)
        if denial is not None:
            return denial
        if self._buckets:  # empty unless a scope has a rate limit (its check above made the bucket)
            for scope, scope_limits in zip(scopes, in_force, strict=True):
                bucket = self._bucket(scope, scope_limits, facts.now)
                if bucket is not None:
                    bucket.take(facts.now)
        return None

    def _in_force_for(self, facts: OrderFacts, book: LimitBook) -> InForce:
        spec = facts.spec
        key = (spec.account, spec.strategy, spec.venue)
        if book is not self._book or len(self._in_force) >= _MAX_CACHED_SCOPES:
            self._book = book
            self._in_force = {}
        found = self._in_force.get(key)
        if found is None:
            scopes = order_scopes(*key)
            found = self._in_force[key] = (scopes, tuple(book.get(scope) for scope in scopes))
        return found

    def _check_limits(self, facts: OrderFacts, limits: Limits, scope: Scope, view: RiskView) -> Denial | None:
        return (
            check_order_size(facts, limits, scope)
            or check_market(facts, limits, scope)
            or check_position(facts, limits, scope, view)
            or check_open_orders(facts, limits, scope, view)
            or check_exposure(facts, limits, scope, view)
            or check_daily_loss(facts, limits, scope, view)
            or self._check_rate(facts, limits, scope)
        )

    def _check_rate(self, facts: OrderFacts, limits: Limits, scope: Scope) -> Denial | None:
        bucket = self._bucket(scope, limits, facts.now)
        if bucket is None or bucket.available(facts.now):
            return None
        return Denial(
            "order_rate_limit",
            f"more than {limits.max_orders_per_second} orders a second (burst {int(bucket.burst)}), {scope}",
        )

    def _bucket(self, scope: Scope, limits: Limits | None, now: datetime) -> TokenBucket | None:
        if limits is None or limits.max_orders_per_second is None:
            if self._buckets:
                self._buckets.pop(scope, None)
            return None
        bucket = self._buckets.get(scope)
        rate = limits.max_orders_per_second
        burst = limits.order_burst or max(1, int(rate))
        if bucket is None or bucket.rate != rate or bucket.burst != burst:
            bucket = TokenBucket(rate, burst, now)
            self._buckets[scope] = bucket
        return bucket

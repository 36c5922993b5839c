"""Settings for requests to venues (`[venue_requests]`): retries while a venue is busy, and the
rate budgets that pace order entry, and the one function that builds the budgets at start-up.

See docs/configuration.md (`[venue_requests]`) and docs/recovery.md (retries).
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal, Self

import redis.asyncio
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from tradewire.domain.ids import VenueId
from tradewire.domain.throttle import RateLimit, RetryPolicy
from tradewire.venues.port import VenueClient
from tradewire.venues.redis_throttle import RedisStore
from tradewire.venues.throttle import Budget, BudgetStore, LocalStore, RateBudget

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class RetrySettings(BaseModel):
    """How often a request the venue refused as busy is tried, in all, before it is given up."""

    model_config = _FROZEN
    attempts: int = Field(default=4, ge=1, le=20)
    """Tries of one request, the first included; 1 turns retries off."""
    base_delay: float = Field(default=0.1, gt=0)
    """Seconds; the n-th wait is between half and all of base_delay * 2**(n-1) (jitter)."""
    max_delay: float = Field(default=2.0, gt=0)
    """Seconds; the cap on a wait. A venue asking for a longer `retry_after` is not retried."""

    @model_validator(mode="after")
    def _check_delays(self) -> Self:
        if self.max_delay < self.base_delay:
            raise ValueError(f"max_delay {self.max_delay} is below base_delay {self.base_delay}")
        return self

    def policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.attempts, base_delay=self.base_delay, max_delay=self.max_delay)


class RateLimitSettings(BaseModel):
    model_config = _FROZEN
    requests: int = Field(ge=1)
    seconds: Decimal = Field(gt=0)
    burst: int | None = Field(default=None, ge=1)
    """At most this many at once; default `requests`."""

    def limit(self) -> RateLimit:
        return RateLimit(requests=self.requests, seconds=self.seconds, burst=self.burst)


class VenueBudgetSettings(BaseModel):
    """One venue's budget, overriding what its adapter declares."""

    model_config = _FROZEN
    limits: tuple[RateLimitSettings, ...] | None = None
    """Replaces the adapter's declared `rate_limits`; `[]` turns pacing off for this venue."""
    key: str | None = None
    """Budgets with the same key are one budget (default: the venue's name). Give every engine that
    trades on the same API key the same key, and engines on different API keys different keys."""


class RateBudgetSettings(BaseModel):
    model_config = _FROZEN
    backend: Literal["local", "redis"] = "local"
    """local: this process's memory. redis: shared by every engine using the same Redis and key."""
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    """May hold a password, so it is a secret: never logged."""
    key_prefix: str = Field(default="tradewire:rate", min_length=1)
    max_wait: float = Field(default=1.0, ge=0)
    """Seconds a request may wait for its budget; beyond that it counts as a busy answer (retried)."""
    venues: dict[str, VenueBudgetSettings] = {}
    """Per venue name."""


class VenueRequestSettings(BaseModel):
    model_config = _FROZEN
    retries: RetrySettings = RetrySettings()
    rate_budget: RateBudgetSettings = RateBudgetSettings()


class RateBudgets:
    """The budget of each venue that has limits, and what they hold open (a Redis client)."""

    def __init__(self, by_venue: dict[VenueId, RateBudget], client: "redis.asyncio.Redis | None") -> None:
        self.by_venue = by_venue
        self._client = client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def build_rate_budgets(settings: RateBudgetSettings, venues: Mapping[VenueId, VenueClient]) -> RateBudgets:
    """A budget per venue, from the adapter's declared limits or the override; venues naming the
    same budget `key` share one."""
    unknown = sorted(set(settings.venues) - set(venues))
    if unknown:
        raise ValueError(
            f"venue_requests.rate_budget.venues names {', '.join(unknown)}, which is not a configured venue"
            f" (configured: {', '.join(sorted(venues)) or 'none'})"
        )
    client = None
    budgets: dict[str, Budget] = {}
    by_venue: dict[VenueId, RateBudget] = {}
    for venue_id, venue in venues.items():
        override = settings.venues.get(venue_id, VenueBudgetSettings())
        if override.limits is not None:
            limits = tuple(limit.limit() for limit in override.limits)
        else:
            limits = venue.capabilities.rate_limits
        if not limits:
            continue
        key = override.key or venue_id
        budget = budgets.get(key)
        if budget is None:
            store: BudgetStore
            if settings.backend == "redis":
                if client is None:
                    client = redis.asyncio.Redis.from_url(
                        settings.redis_url.get_secret_value(), socket_timeout=2.0, socket_connect_timeout=2.0
                    )
                store = RedisStore(client, settings.key_prefix, key, limits)
            else:
                store = LocalStore(limits)
            budget = budgets[key] = Budget(key, store, settings.max_wait)
        elif budget.limits != limits:
            raise ValueError(f"venues sharing the rate budget key {key!r} declare different limits")
        by_venue[venue_id] = budget
    return RateBudgets(by_venue, client)

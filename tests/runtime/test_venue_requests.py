"""`[venue_requests]` settings: retries and rate budgets, validated with clear errors, and the
budgets built from what adapters declare or what the config overrides."""

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.factories import T0
from tests.runtime.engines import engine_settings
from tradewire.domain.clock import ManualClock
from tradewire.domain.ids import VenueId
from tradewire.domain.throttle import RateLimit, RetryPolicy
from tradewire.runtime.venue_requests import RateBudgetSettings, RetrySettings, build_rate_budgets
from tradewire.runtime.venues import build_venues
from tradewire.venues.port import VenueClient
from tradewire.venues.throttle import Budget


def test_defaults_retry_four_times_and_pace_nothing(tmp_path: Path) -> None:
    settings = engine_settings(tmp_path)
    assert settings.venue_requests.retries.policy() == RetryPolicy(attempts=4, base_delay=0.1, max_delay=2.0)
    assert settings.venue_requests.rate_budget.backend == "local"


def test_a_max_delay_below_the_base_delay_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"max_delay 0\.05 is below base_delay 0\.1"):
        RetrySettings(base_delay=0.1, max_delay=0.05)


def test_the_redis_url_is_a_secret_never_shown(tmp_path: Path) -> None:
    settings = engine_settings(
        tmp_path, venue_requests={"rate_budget": {"redis_url": "redis://:hunter2@127.0.0.1:6379/0"}}
    )
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in settings.model_dump_json()


@pytest.fixture
async def venues(tmp_path: Path) -> AsyncIterator[dict[VenueId, VenueClient]]:
    built = build_venues(engine_settings(tmp_path), ManualClock(T0))
    yield built
    for venue in built.values():
        await venue.close()


async def test_a_configured_limit_gives_the_venue_a_budget(venues: dict[VenueId, VenueClient]) -> None:
    settings = RateBudgetSettings.model_validate(
        {"venues": {"paper": {"limits": [{"requests": 10, "seconds": "1", "burst": 2}]}}}
    )
    budgets = build_rate_budgets(settings, venues)
    budget = budgets.by_venue[VenueId("paper")]
    assert isinstance(budget, Budget)
    assert budget.limits == (RateLimit(requests=10, seconds=Decimal(1), burst=2),)
    await budgets.close()


async def test_a_venue_without_declared_limits_is_not_paced(venues: dict[VenueId, VenueClient]) -> None:
    budgets = build_rate_budgets(RateBudgetSettings(), venues)
    assert budgets.by_venue == {}
    await budgets.close()


def test_a_budget_for_a_venue_that_is_not_configured_is_a_clear_error(
    venues: dict[VenueId, VenueClient],
) -> None:
    settings = RateBudgetSettings.model_validate({"venues": {"binance": {"limits": []}}})
    with pytest.raises(
        ValueError, match=r"names binance, which is not a configured venue \(configured: paper"
    ):
        build_rate_budgets(settings, venues)

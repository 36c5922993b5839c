"""The documented example config stays true: it loads, and an engine starts with it."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from tradewire.domain.events import RiskLimitsChanged
from tradewire.journal.sqlite import sqlite_journal
from tradewire.runtime.node import Engine
from tradewire.runtime.settings import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tradewire.toml"


async def test_the_example_config_starts_an_engine_with_its_limits(tmp_path: Path) -> None:
    settings = load_settings(EXAMPLE, data_dir=tmp_path, paper={"tick_interval": None})
    async with Engine(settings) as engine:
        limits = engine.service.limits()
        assert set(limits) == {"portfolio", "account:paper-1", "strategy:trend-1"}
        assert str(limits["portfolio"].max_order_notional) == "250000"
        assert [a.account for a in engine.service.accounts()] == ["paper-1", "paper-2"]
    async with Engine(settings):
        pass
    changes = [
        r for _, r in sqlite_journal(settings.journal_path).replay() if isinstance(r, RiskLimitsChanged)
    ]
    assert len(changes) == 3, "unchanged config limits are not applied again on a restart"
    assert {c.changed_by for c in changes} == {"config"}


def test_a_misspelt_key_is_refused_with_its_name(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[risk.portfolio]\nmax_order_notionl = "5"\n')
    with pytest.raises(ValidationError, match="max_order_notionl"):
        load_settings(config)


async def test_limits_changed_at_run_time_survive_a_restart_until_the_config_changes(tmp_path: Path) -> None:
    config = tmp_path / "tradewire.toml"
    config.write_text("[risk.portfolio]\nmax_open_orders = 5\n")
    settings = load_settings(config, data_dir=tmp_path / "data", paper={"tick_interval": None})
    async with Engine(settings) as engine:
        await engine.service.set_limits("portfolio", {"max_open_orders": 9}, "api:alice")
    async with Engine(settings) as engine:
        assert engine.service.limits()["portfolio"].max_open_orders == 9
    config.write_text("[risk.portfolio]\nmax_open_orders = 3\n")
    settings = load_settings(config, data_dir=tmp_path / "data", paper={"tick_interval": None})
    async with Engine(settings) as engine:
        assert engine.service.limits()["portfolio"].max_open_orders == 3

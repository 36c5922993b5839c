"""`tradewire venues` against a real engine process on loopback."""

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from tests.cli.engine import TOKEN, RunningEngine, engine_process
from tradewire.cli import cli


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    with engine_process(tmp_path_factory.mktemp("cli-venues") / "var") as running:
        yield running


def tradewire(engine: RunningEngine, *args: str) -> Result:
    env = {"TRADEWIRE_URL": engine.url, "TRADEWIRE_API_TOKEN": TOKEN, "TRADEWIRE_DATA_DIR": None}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_venues_shows_each_venues_health_and_connection(engine: RunningEngine) -> None:
    result = tradewire(engine, "venues")

    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split()[:5] == ["VENUE", "HEALTH", "ORDERS", "CONNECTION", "ATTEMPT"]
    assert row.split()[:5] == ["paper", "connected", "yes", "primary", "0"]


def test_venues_as_json_is_what_the_api_sent(engine: RunningEngine) -> None:
    result = tradewire(engine, "venues", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == engine.get("/api/v1/venues").json()


def test_health_shows_the_venue_health_too(engine: RunningEngine) -> None:
    result = CliRunner().invoke(
        cli, ["health"], env={"TRADEWIRE_URL": engine.url, "TRADEWIRE_API_TOKEN": None}
    )

    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["venue_health"] == "paper=connected"

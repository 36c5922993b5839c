"""`tradewire limits`, `kill`, `resume`, `kill-switch` and `amend` against a real engine process.

The engine is shared by the module, so each test works in its own strategy scope.
"""

import getpass
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli.engine import RunningEngine, engine_process
from tests.cli.test_cli import RESTING, submit, tradewire, wait_for_status
from tradewire.domain.events import Record, RiskLimitsChanged, TradingStateChanged
from tradewire.journal.sqlite import sqlite_journal


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    with engine_process(tmp_path_factory.mktemp("cli-risk") / "var") as running:
        yield running


def journaled(engine: RunningEngine) -> list[Record]:
    return [record for _, record in sqlite_journal(engine.data_dir / "journal.sqlite").replay()]


def wait_for_quantity(engine: RunningEngine, order_id: str, quantity: str) -> None:
    for _ in range(200):
        order = engine.get(f"/api/v1/orders/{order_id}").json()
        if order["status"] == "accepted" and order["quantity"] == quantity:
            return
        time.sleep(0.02)
    raise AssertionError(f"{order_id} did not settle at quantity {quantity}")


def test_limits_set_replaces_a_scopes_limits_and_limits_shows_them(engine: RunningEngine) -> None:
    result = tradewire(
        engine,
        *("limits", "set", "strategy:cli-limits", "--max-order-quantity", "5.50", "--max-open-orders", "3"),
        *("--gross-exposure", "crypto_spot=100000"),
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("strategy:cli-limits: limits replaced")
    shown = tradewire(engine, "limits")
    assert shown.exit_code == 0
    rows = [line.split() for line in shown.stdout.splitlines() if "cli-limits" in line]
    assert rows == [
        ["strategy:cli-limits", "max_order_quantity", "5.50"],
        ["strategy:cli-limits", "max_open_orders", "3"],
        ["strategy:cli-limits", "max_gross_exposure", "crypto_spot=100000"],
    ]
    assert shown.stdout.splitlines()[0].split() == ["SCOPE", "LIMIT", "VALUE"]
    as_json = tradewire(engine, "limits", "--json")
    assert as_json.stdout.strip().encode() == engine.get("/api/v1/risk/limits").content


def test_limits_set_says_which_limits_the_replacement_removed(engine: RunningEngine) -> None:
    tradewire(
        engine, "limits", "set", "strategy:cli-rm", "--max-order-quantity", "5", "--max-open-orders", "3"
    )

    result = tradewire(engine, "limits", "set", "strategy:cli-rm", "--max-open-orders", "2")

    assert result.exit_code == 0, result.output
    assert "removed: max_order_quantity (was 5)" in result.stdout
    assert engine.get("/api/v1/risk/limits").json()["strategy:cli-rm"] == {"max_open_orders": 2}


def test_limits_set_reads_a_json_file_exactly(engine: RunningEngine, tmp_path: Path) -> None:
    path = tmp_path / "limits.json"
    path.write_text('{"max_order_notional": 1000.10, "price_collar_bps": "50"}')

    result = tradewire(engine, "limits", "set", "strategy:cli-file", "--file", str(path), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"max_order_notional": "1000.10", "price_collar_bps": "50"}


def test_a_bad_limit_exits_2_naming_the_field_and_changes_nothing(engine: RunningEngine) -> None:
    result = tradewire(engine, "limits", "set", "strategy:cli-bad", "--max-daily-loss", "plenty")

    assert result.exit_code == 2
    assert "error (422 invalid_input)" in result.stderr
    assert "limits.max_daily_loss:" in result.stderr
    assert "strategy:cli-bad" not in engine.get("/api/v1/risk/limits").json()


@pytest.mark.parametrize(
    "args",
    [
        ["strategy:cli-none"],
        ["strategy:cli-none", "--clear", "--max-open-orders", "1"],
        ["strategy:cli-none", "--gross-exposure", "crypto_spot"],
    ],
)
def test_limits_set_without_exactly_one_source_of_limits_is_a_usage_error(
    engine: RunningEngine, args: list[str]
) -> None:
    result = tradewire(engine, "limits", "set", *args)

    assert result.exit_code == 2
    assert "strategy:cli-none" not in engine.get("/api/v1/risk/limits").json()


def test_limits_set_clear_removes_every_limit_of_the_scope(engine: RunningEngine) -> None:
    tradewire(engine, "limits", "set", "strategy:cli-clear", "--max-open-orders", "4")

    result = tradewire(engine, "limits", "set", "strategy:cli-clear", "--clear")

    assert result.exit_code == 0, result.output
    assert "removed: max_open_orders (was 4)" in result.stdout
    assert engine.get("/api/v1/risk/limits").json()["strategy:cli-clear"] == {}


def test_connection_options_before_set_are_refused_not_ignored(engine: RunningEngine) -> None:
    result = tradewire(engine, "limits", "--url", engine.url, "set", "strategy:cli-x", "--clear")

    assert result.exit_code == 2
    assert "put --url after `set`" in result.output


def test_the_operator_is_journaled_from_the_option_the_environment_or_the_os_user(
    engine: RunningEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    tradewire(engine, "limits", "set", "strategy:cli-who", "--max-open-orders", "1", "--operator", "carol")
    monkeypatch.setenv("TRADEWIRE_OPERATOR", "dave")
    tradewire(engine, "limits", "set", "strategy:cli-who", "--max-open-orders", "2")
    monkeypatch.delenv("TRADEWIRE_OPERATOR")
    tradewire(engine, "limits", "set", "strategy:cli-who", "--max-open-orders", "3")

    changes = [
        r for r in journaled(engine) if isinstance(r, RiskLimitsChanged) and r.scope == "strategy:cli-who"
    ]

    assert [c.changed_by for c in changes] == ["api:carol", "api:dave", f"api:{getpass.getuser()}"]


def test_a_bad_operator_exits_2(engine: RunningEngine) -> None:
    result = tradewire(engine, "kill", "--scope", "strategy:cli-op", "--reason", "r", "--operator", "a b")

    assert result.exit_code == 2
    assert "X-Operator:" in result.stderr


def test_kill_halts_signals_until_resume(engine: RunningEngine) -> None:
    order_id = submit(engine, "cli-kill", *RESTING)
    wait_for_status(engine, order_id, "accepted")

    killed = tradewire(
        engine, "kill", "--scope", "strategy:cli-kill", "--reason", "drill", "--operator", "erin"
    )
    denied = tradewire(engine, "signal", "--strategy", "cli-kill", *RESTING)
    states = tradewire(engine, "kill-switch")
    resumed = tradewire(engine, "resume", "--scope", "strategy:cli-kill", "--reason", "drill over")
    again = tradewire(engine, "signal", "--strategy", "cli-kill", *RESTING)

    assert killed.exit_code == 0, killed.output
    assert killed.stdout.splitlines()[0] == "kill switch engaged: strategy:cli-kill is halted"
    assert f"cancel requested for 1: {order_id}" in killed.stdout
    assert "tradewire resume --scope strategy:cli-kill" in killed.stdout
    wait_for_status(engine, order_id, "canceled")
    assert denied.exit_code == 1
    assert "reason: trading_halted:" in denied.stdout
    assert ["strategy:cli-kill", "halted", "yes"] in [line.split() for line in states.stdout.splitlines()]
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.startswith("strategy:cli-kill is active")
    assert again.exit_code == 0, again.output
    changes = [
        r for r in journaled(engine) if isinstance(r, TradingStateChanged) and r.scope.endswith("cli-kill")
    ]
    assert [(c.state.value, c.changed_by) for c in changes] == [
        ("halted", "api:erin"),
        ("active", f"api:{getpass.getuser()}"),
    ]


def test_kill_with_keep_orders_leaves_working_orders_alone(engine: RunningEngine) -> None:
    order_id = submit(engine, "cli-keep", *RESTING)
    wait_for_status(engine, order_id, "accepted")

    result = tradewire(engine, "kill", "--scope", "strategy:cli-keep", "--keep-orders", "--reason", "pause")

    assert result.exit_code == 0, result.output
    assert "working orders kept" in result.stdout
    assert engine.get(f"/api/v1/orders/{order_id}").json()["status"] == "accepted"


def test_kill_flatten_closes_the_scopes_position(engine: RunningEngine) -> None:
    bought = submit(engine, "cli-flat", "--instrument", "ETH/USDT", "--side", "buy", "--quantity", "0.02")
    wait_for_status(engine, bought, "filled")

    result = tradewire(engine, "kill", "--scope", "strategy:cli-flat", "--flatten", "--reason", "close it")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "kill switch engaged: strategy:cli-flat is reducing"
    [sent] = [line for line in result.stdout.splitlines() if line.startswith("flatten sent: ")]
    flatten_id = sent.split()[2]
    assert sent.split()[3:6] == ["sell", "0.02", "ETH/USDT"]
    wait_for_status(engine, flatten_id, "filled")
    [position] = [
        p
        for p in engine.get("/api/v1/positions?by=strategy&include_flat=true").json()
        if p["strategy"] == "cli-flat"
    ]
    assert Decimal(position["quantity"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--flatten", "--keep-orders", "--reason", "r"], "cannot be used with --keep-orders"),
        (["--scope", "strategy:cli-usage"], "Missing option '--reason'"),
        (["--scope", "desk", "--reason", "r"], "scope: 'desk' is not a scope"),
        (["--scope", "strategy:cli-usage", "--reason", "   "], "reason: is only spaces"),
    ],
)
def test_an_invalid_kill_exits_2_and_engages_nothing(
    engine: RunningEngine, args: list[str], message: str
) -> None:
    result = tradewire(engine, "kill", *args)

    assert result.exit_code == 2
    assert message in result.output
    engaged = {s["scope"] for s in engine.get("/api/v1/kill-switch").json() if s["state"] != "active"}
    assert not engaged & {"portfolio", "desk", "strategy:cli-usage"}


def test_amend_down_is_sent_and_the_order_takes_the_new_quantity(engine: RunningEngine) -> None:
    order_id = submit(engine, "cli-amend", *RESTING)
    wait_for_status(engine, order_id, "accepted")

    result = tradewire(engine, "amend", order_id, "--quantity", "0.005")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"amend sent: {order_id} is pending_replace")
    wait_for_quantity(engine, order_id, "0.005")


def test_an_amend_denied_by_a_limit_prints_the_reason_and_exits_1(engine: RunningEngine) -> None:
    tradewire(engine, "limits", "set", "strategy:cli-amend-up", "--max-order-quantity", "0.02")
    order_id = submit(engine, "cli-amend-up", *RESTING)
    wait_for_status(engine, order_id, "accepted")

    result = tradewire(engine, "amend", order_id, "--quantity", "0.05")

    assert result.exit_code == 1
    assert result.stdout.startswith("amend denied: order_quantity_limit: ")
    assert f"{order_id} is unchanged (accepted)" in result.stdout
    assert engine.get(f"/api/v1/orders/{order_id}").json()["quantity"] == "0.01"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([], 2, "give at least one of --quantity"),
        (["--quantity", "-1"], 2, "quantity: must be a positive number, got -1"),
        (["--limit-price", "0.001"], 2, "limit_price:"),
    ],
)
def test_an_invalid_amend_exits_2(engine: RunningEngine, args: list[str], code: int, message: str) -> None:
    order_id = submit(engine, "cli-amend-bad", *RESTING)
    wait_for_status(engine, order_id, "accepted")

    result = tradewire(engine, "amend", order_id, *args)

    assert result.exit_code == code
    assert message in result.output


def test_amending_an_unknown_order_exits_1(engine: RunningEngine) -> None:
    result = tradewire(engine, "amend", "TW-unknown", "--quantity", "1")

    assert result.exit_code == 1
    assert "error (404 not_found)" in result.stderr


def test_the_help_lists_the_risk_commands_and_says_set_replaces() -> None:
    top = tradewire(None, "--help")
    set_help = tradewire(None, "limits", "set", "--help")

    for command in ("limits", "kill", "kill-switch", "resume", "amend"):
        assert f"  {command} " in top.stdout
    assert "REPLACE the limits of SCOPE" in set_help.stdout
    assert "Every limit not given is REMOVED" in set_help.stdout
    assert "--operator" in set_help.stdout

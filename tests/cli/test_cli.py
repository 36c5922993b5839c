"""The `tradewire` command against a real engine process on loopback."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.cli.engine import TOKEN, RunningEngine, engine_process, free_port
from tradewire.cli import cli

CLEAN_ENV: dict[str, str | None] = {
    "TRADEWIRE_API_TOKEN": None,
    "TRADEWIRE_URL": None,
    "TRADEWIRE_DATA_DIR": None,
}
RESTING = [
    "--instrument",
    "BTC/USDT",
    "--side",
    "buy",
    "--quantity",
    "0.01",
    "--type",
    "limit",
    "--limit-price",
    "1000.10",
]
"""A buy far below the market: it rests at the venue, so what the commands show stays put."""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    with engine_process(tmp_path_factory.mktemp("cli") / "var") as running:
        yield running


def tradewire(
    engine: RunningEngine | None, *args: str, stdin: str | None = None, token: str | None = TOKEN
) -> Result:
    env = dict(CLEAN_ENV)
    if engine is not None:
        env["TRADEWIRE_URL"] = engine.url
    if token is not None:
        env["TRADEWIRE_API_TOKEN"] = token
    return CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)


def wait_for_status(engine: RunningEngine, order_id: str, status: str) -> None:
    for _ in range(200):
        if engine.get(f"/api/v1/orders/{order_id}").json()["status"] == status:
            return
        time.sleep(0.02)
    raise AssertionError(f"{order_id} did not become {status}")


def submit(engine: RunningEngine, strategy: str, *args: str) -> str:
    result = tradewire(engine, "signal", "--strategy", strategy, *args, "--json")
    assert result.exit_code == 0, result.output
    order_id: str = json.loads(result.stdout)["client_order_ids"][0]
    return order_id


def test_an_accepted_signal_prints_its_outcome_and_order_and_exits_0(engine: RunningEngine) -> None:
    result = tradewire(engine, "signal", "--strategy", "cli-accept", *RESTING, "--key", "cli-accept-1")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("accepted  signal S")
    assert "orders: TW" in result.stdout


def test_a_replayed_key_says_so(engine: RunningEngine) -> None:
    tradewire(engine, "signal", "--strategy", "cli-replay", *RESTING, "--key", "cli-replay-1")

    again = tradewire(engine, "signal", "--strategy", "cli-replay", *RESTING, "--key", "cli-replay-1")

    assert again.exit_code == 0
    assert "replayed" in again.stdout


def test_signal_json_is_the_api_answer(engine: RunningEngine) -> None:
    result = tradewire(engine, "signal", "--strategy", "cli-json", *RESTING, "--json")

    assert result.exit_code == 0
    answer = json.loads(result.stdout)
    assert answer["outcome"] == "accepted"
    assert set(answer) == {"signal_id", "outcome", "client_order_ids", "reason_code", "reason", "duplicate"}


def test_a_denied_signal_prints_the_reason_and_exits_1(engine: RunningEngine) -> None:
    result = tradewire(
        engine,
        "signal",
        "--strategy",
        "cli-deny",
        "--instrument",
        "BTC/USDT",
        "--side",
        "buy",
        "--quantity",
        "0.000001",
    )

    assert result.exit_code == 1
    assert result.stdout.startswith("denied")
    assert "reason: quantity_below_minimum:" in result.stdout


def test_an_invalid_signal_prints_every_problem_and_exits_2(engine: RunningEngine) -> None:
    result = tradewire(
        engine,
        "signal",
        "--strategy",
        "cli-bad",
        "--instrument",
        "BTC/USDT",
        "--quantity",
        "-1",
        "--stop-price",
        "5",
    )

    assert result.exit_code == 2
    assert "error (422 invalid_input)" in result.stderr
    assert "quantity: must be greater than zero, got -1" in result.stderr
    assert "stop_price: is not used by a market order" in result.stderr
    assert "side: is required with quantity or notional" in result.stderr
    assert result.stderr.count("accepted:") == 3


def test_an_invalid_signal_with_json_prints_the_error_body_and_exits_2(engine: RunningEngine) -> None:
    result = tradewire(
        engine,
        "signal",
        "--strategy",
        "cli-bad",
        "--instrument",
        "NOPE",
        "--side",
        "buy",
        "--quantity",
        "1",
        "--json",
    )

    assert result.exit_code == 2
    body = json.loads(result.stdout)
    assert body["error"] == "invalid_input"
    assert body["problems"][0]["field"] == "instrument"


def test_a_signal_from_stdin_is_sent_as_written(engine: RunningEngine) -> None:
    signal = {
        "strategy": "cli-stdin",
        "instrument": "BTC/USDT",
        "side": "buy",
        "quantity": "0.01",
        "order_type": "limit",
        "limit_price": "1000.10",
    }

    result = tradewire(engine, "signal", "--file", "-", "--json", stdin=json.dumps(signal))

    assert result.exit_code == 0, result.output
    [order_id] = json.loads(result.stdout)["client_order_ids"]
    assert engine.get(f"/api/v1/orders/{order_id}").json()["limit_price"] == "1000.10"


def test_a_signal_file_with_malformed_json_exits_2(engine: RunningEngine, tmp_path: Path) -> None:
    path = tmp_path / "signal.json"
    path.write_text('{"strategy": "x",')

    result = tradewire(engine, "signal", "--file", str(path))

    assert result.exit_code == 2
    assert "body: not valid JSON" in result.stderr


def test_a_signal_file_with_field_options_is_a_usage_error(engine: RunningEngine) -> None:
    result = tradewire(engine, "signal", "--file", "-", "--strategy", "x", stdin="{}")

    assert result.exit_code == 2
    assert "--file cannot be combined" in result.output


def test_orders_shows_a_table_and_json_is_exactly_the_api_json(engine: RunningEngine) -> None:
    order_id = submit(engine, "cli-orders", *RESTING)
    wait_for_status(engine, order_id, "accepted")

    table = tradewire(engine, "orders", "--strategy", "cli-orders")
    as_json = tradewire(engine, "orders", "--strategy", "cli-orders", "--json")

    assert table.exit_code == as_json.exit_code == 0
    header, row = table.stdout.splitlines()
    assert header.split()[:4] == ["ORDER", "STATUS", "STRATEGY", "ACCOUNT"]
    assert row.split()[:2] == [order_id, "accepted"]
    assert "1000.10" in row.split()
    assert as_json.stdout.strip().encode() == engine.get("/api/v1/orders?strategy=cli-orders").content


def test_orders_with_a_bad_status_exits_2(engine: RunningEngine) -> None:
    result = tradewire(engine, "orders", "--status", "bogus")

    assert result.exit_code == 2
    assert "status: 'bogus' is not an order status" in result.stderr


def test_order_shows_every_field_of_one_order(engine: RunningEngine) -> None:
    order_id = submit(engine, "cli-order", *RESTING)

    result = tradewire(engine, "order", order_id)

    assert result.exit_code == 0
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["client_order_id"] == order_id
    assert lines["limit_price"] == "1000.10"
    assert lines["stop_price"] == "-"


def test_an_unknown_order_exits_1(engine: RunningEngine) -> None:
    result = tradewire(engine, "order", "TW-unknown")

    assert result.exit_code == 1
    assert "error (404 not_found): no order 'TW-unknown'" in result.stderr


def test_cancel_requests_the_cancel_and_the_order_ends_canceled(engine: RunningEngine) -> None:
    order_id = submit(engine, "cli-cancel", *RESTING)
    wait_for_status(engine, order_id, "accepted")

    result = tradewire(engine, "cancel", order_id)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"cancel requested: {order_id} is ")
    wait_for_status(engine, order_id, "canceled")
    again = tradewire(engine, "cancel", order_id)
    assert again.exit_code == 1
    assert "409 conflict" in again.stderr


def test_positions_fills_and_accounts_after_a_market_buy(engine: RunningEngine) -> None:
    order_id = submit(engine, "cli-fill", "--instrument", "ETH/USDT", "--side", "buy", "--quantity", "0.01")
    wait_for_status(engine, order_id, "filled")
    [api_fill] = engine.get(f"/api/v1/fills?client_order_id={order_id}").json()

    fills = tradewire(engine, "fills", "--order", order_id)
    positions = tradewire(engine, "positions", "--by-strategy")
    accounts = tradewire(engine, "accounts")
    fills_json = tradewire(engine, "fills", "--strategy", "cli-fill", "--json")

    assert fills.exit_code == positions.exit_code == accounts.exit_code == fills_json.exit_code == 0
    header, row = fills.stdout.splitlines()
    assert header.split()[:3] == ["TIME", "(UTC)", "ORDER"]
    assert order_id in row.split()
    assert api_fill["price"] in row.split()
    assert api_fill["fee"] in row.split()
    [api_position] = [
        p for p in engine.get("/api/v1/positions?by=strategy").json() if p["strategy"] == "cli-fill"
    ]
    [eth] = [line for line in positions.stdout.splitlines() if "cli-fill" in line]
    assert eth.split()[:4] == ["paper-1", "cli-fill", "ETH/USDT", api_position["quantity"]]
    assert Decimal(api_position["quantity"]) == Decimal("0.01")
    assert "STRATEGY" in positions.stdout.splitlines()[0]
    assert accounts.stdout.splitlines()[1].split()[:4] == ["paper-1", "paper", "USD", "yes"]
    assert [Decimal(f["price"]) for f in json.loads(fills_json.stdout)] == [Decimal(api_fill["price"])]


def test_health_prints_the_state_and_exits_0(engine: RunningEngine) -> None:
    result = tradewire(engine, "health", token=None)

    assert result.exit_code == 0
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["status"] == "ok"
    assert lines["venues"] == "paper=yes"
    assert json.loads(tradewire(engine, "health", "--json").stdout)["status"] == "ok"


def test_a_missing_token_is_explained(engine: RunningEngine, tmp_path: Path) -> None:
    result = tradewire(engine, "orders", "--data-dir", str(tmp_path), token=None)

    assert result.exit_code == 1
    assert "no API token" in result.output
    assert str(tmp_path / "api-token") in result.output


def test_a_wrong_token_is_401(engine: RunningEngine) -> None:
    result = tradewire(engine, "accounts", token="wrong")

    assert result.exit_code == 1
    assert "401 unauthorized" in result.stderr
    assert "wrong" not in result.stderr


def test_nothing_listening_says_which_url_and_how_to_start_the_engine() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = tradewire(None, "signal", "--url", url, "--strategy", "s", "--instrument", "BTC/USDT")

    assert result.exit_code == 1
    assert f"cannot reach Tradewire at {url}" in result.stderr
    assert "tradewire run" in result.stderr


def test_the_token_comes_from_the_engines_token_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    with engine_process(data_dir, token=None) as engine:
        result = tradewire(engine, "accounts", "--data-dir", str(data_dir), token=None)

        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[1].startswith("paper-1")
        stopped = engine.stop()
    assert stopped == 0
    log = engine.log.read_text()
    assert f"Tradewire listening on {engine.url} (docs at /docs)" in log
    assert "Tradewire stopped" in log
    assert log.count(engine.token) == 1, "shown once, when it was generated, and never logged"


def test_help_texts_name_the_commands_and_give_a_signal_example() -> None:
    top = tradewire(None, "--help")
    signal_help = tradewire(None, "signal", "--help")

    for command in ("run", "signal", "orders", "order", "cancel", "positions", "fills", "accounts", "health"):
        assert f"  {command} " in top.stdout
    assert "Examples:" in signal_help.stdout
    assert "tradewire signal --strategy trend-1 --instrument EURUSD" in signal_help.stdout
    assert "TRADEWIRE_API_TOKEN" in signal_help.stdout


def test_the_engine_log_never_contains_the_token(engine: RunningEngine) -> None:
    tradewire(engine, "accounts")

    log = engine.log.read_text()
    assert f"Tradewire listening on {engine.url} (docs at /docs)" in log
    assert TOKEN not in log


def test_run_on_a_port_in_use_fails_before_starting_the_engine(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-m", "tradewire", "run", "--data-dir", str(tmp_path), "--port", str(port)],
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIRE_")},
                "TRADEWIRE_API_TOKEN": TOKEN,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert finished.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in finished.stderr
    assert not (tmp_path / "journal.sqlite").exists()


def test_ctrl_c_stops_the_engine_cleanly(tmp_path: Path) -> None:
    with engine_process(tmp_path / "var") as engine:
        engine.process.send_signal(signal.SIGINT)
        code = engine.process.wait(timeout=20)

    assert code == 0
    log = engine.log.read_text()
    assert "SIGINT received: shutting down" in log
    assert log.rstrip().endswith("Tradewire stopped")


def test_reconcile_runs_now_and_prints_a_clean_report(engine: RunningEngine) -> None:
    result = tradewire(engine, "reconcile")
    assert result.exit_code == 0, result.output
    assert "paper" in result.output
    assert "CLEAN" in result.output.upper()
    last = tradewire(engine, "reconcile", "--last", "--json")
    assert last.exit_code == 0
    assert last.output.startswith("[{") and '"venue":"paper"' in last.output

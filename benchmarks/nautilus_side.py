"""The NautilusTrader side of the comparison: the same workloads through its in-process order path.

    .venv/bin/python -m benchmarks.nautilus_side --orders N [--workload market|limit|idle]

NautilusTrader (the `bench` extra) runs as a `BacktestEngine` with one simulated venue ("SIM",
`OmsType.NETTING`, a USD margin account) and one instrument, `TestInstrumentProvider.default_fx_ccy
("EUR/USD")`. The engine is fed one quote tick a second; a `Strategy` acts on every tick:

- market: one 100,000 EUR market order, buy and sell alternating. Its path is strategy ->
  `submit_order` -> risk engine -> execution engine -> simulated exchange -> fill -> position; the
  exchange processes the command in the same iteration as the tick, so each order is filled and its
  position event published before the next tick arrives.
- limit: one limit buy 1,000 points below the bid (it rests); on its `OrderAccepted` the strategy
  cancels it, and the exchange processes the cancel in the same iteration.
- idle: the same ticks and the same strategy doing nothing: the cost of the data feed alone.

The clock starts on entry to the first measured tick's handler and stops when the last order's
position event (market) or `OrderCanceled` (limit) reaches the strategy, or on entry to the last
tick's handler (idle). The data-feed overhead (idle) is reported beside, and subtracted for the net
figure. `submit_order` is timed around the call itself. The figures are printed as one JSON object
so `benchmarks.compare` can run this in a subprocess.

The nautilus_trader package is compiled (Cython) without type stubs, so its objects are `Any` here.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from benchmarks.harness import now_ns

Workload = Literal["market", "limit", "idle"]
WARMUP = 200
"""Orders (ticks) before the measured ones, as in benchmarks.lifecycle."""
TICK_SPACING_NS = 1_000_000_000
"""One tick a second of simulated time: the default risk engine's 100 orders/s rate limit never bites."""
ORDER_QUANTITY = 100_000
DISPLAYED_SIZE = 10_000_000
BID, ASK = "1.10000", "1.10002"
RESTING_LIMIT = "1.09000"
"""A limit buy 1,000 points below the bid: it rests until cancelled."""
STARTING_USD = 10_000_000


@dataclass
class NautilusRun:
    """What one run measured; plain numbers so it crosses a process boundary as JSON."""

    workload: str
    orders: int
    elapsed_ns: int = 0
    submit_ns: list[int] = field(default_factory=list)
    submitted: int = 0
    filled: int = 0
    position_events: int = 0
    accepted: int = 0
    canceled: int = 0
    version: str = ""


def available() -> str | None:
    """nautilus_trader's version if it can be imported, else None."""
    try:
        import nautilus_trader  # noqa: PLC0415 - optional: the `bench` extra
    except ImportError:
        return None
    return str(nautilus_trader.__version__)


def run_workload(workload: Workload, orders: int, log_level: str = "ERROR") -> NautilusRun:
    """Build a fresh BacktestEngine, run `orders` measured ticks (after the warm-up), tear it down."""
    from nautilus_trader.backtest.config import BacktestEngineConfig  # noqa: PLC0415
    from nautilus_trader.backtest.engine import BacktestEngine  # type: ignore[import-not-found]  # noqa: PLC0415
    from nautilus_trader.config import LoggingConfig  # noqa: PLC0415
    from nautilus_trader.model.currencies import USD  # noqa: PLC0415
    from nautilus_trader.model.data import QuoteTick  # type: ignore[import-not-found]  # noqa: PLC0415
    from nautilus_trader.model.enums import AccountType, OmsType  # noqa: PLC0415
    from nautilus_trader.model.identifiers import Venue  # type: ignore[import-not-found]  # noqa: PLC0415
    from nautilus_trader.model.objects import Money, Price, Quantity  # type: ignore[import-not-found]  # noqa: PLC0415
    from nautilus_trader.test_kit.providers import TestInstrumentProvider  # noqa: PLC0415

    instrument: Any = TestInstrumentProvider.default_fx_ccy("EUR/USD")
    config = BacktestEngineConfig(
        logging=LoggingConfig(log_level=log_level),
        run_analysis=False,
    )
    engine: Any = BacktestEngine(config=config)
    engine.add_venue(
        venue=Venue("SIM"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(STARTING_USD, USD)],
        default_leverage=Decimal(10),
    )
    engine.add_instrument(instrument)
    bid, ask, size = Price.from_str(BID), Price.from_str(ASK), Quantity.from_int(DISPLAYED_SIZE)
    start_ns = 1_700_000_000 * TICK_SPACING_NS
    ticks = [
        QuoteTick(
            instrument.id,
            bid,
            ask,
            size,
            size,
            start_ns + i * TICK_SPACING_NS,
            start_ns + i * TICK_SPACING_NS,
        )
        for i in range(WARMUP + orders)
    ]
    engine.add_data(ticks)
    run = NautilusRun(workload=workload, orders=orders, version=available() or "")
    strategy = _strategy_class()(instrument, workload, WARMUP, orders, run)
    engine.add_strategy(strategy)
    try:
        engine.run()
    finally:
        engine.dispose()
    return run


def _strategy_class() -> type[Any]:
    """The benchmark strategy, defined once nautilus_trader is known to be importable."""
    from nautilus_trader.model.enums import OrderSide  # noqa: PLC0415
    from nautilus_trader.model.objects import Price, Quantity  # noqa: PLC0415
    from nautilus_trader.trading.strategy import Strategy  # type: ignore[import-not-found]  # noqa: PLC0415

    class BenchStrategy(Strategy):  # type: ignore[misc]  # Strategy is an untyped Cython class
        """One order per quote tick; records what happened into a `NautilusRun`."""

        def __init__(self, instrument: Any, workload: Workload, warmup: int, orders: int, run: NautilusRun):
            super().__init__()
            self.instrument = instrument
            self.workload = workload
            self.warmup = warmup
            self.total = warmup + orders
            self.run = run
            self.ticks = 0
            self.done = 0
            self.began = 0
            self.quantity = Quantity.from_int(ORDER_QUANTITY)
            self.limit_price = Price.from_str(RESTING_LIMIT)

        def on_start(self) -> None:
            self.subscribe_quote_ticks(self.instrument.id)

        def on_quote_tick(self, tick: Any) -> None:
            self.ticks += 1
            if self.ticks == self.warmup + 1:
                self.began = now_ns()
            if self.workload == "idle":
                if self.ticks == self.total:
                    self.run.elapsed_ns = now_ns() - self.began
                return
            factory = self.order_factory
            if self.workload == "market":
                side = OrderSide.BUY if self.ticks % 2 else OrderSide.SELL
                order = factory.market(self.instrument.id, side, self.quantity)
            else:
                order = factory.limit(self.instrument.id, OrderSide.BUY, self.quantity, self.limit_price)
            start = now_ns()
            self.submit_order(order)
            if self.ticks > self.warmup:
                self.run.submit_ns.append(now_ns() - start)
            self.run.submitted += 1

        def on_order_filled(self, event: Any) -> None:
            self.run.filled += 1

        def on_order_accepted(self, event: Any) -> None:
            self.run.accepted += 1
            if self.workload == "limit":
                self.cancel_order(self.cache.order(event.client_order_id))

        def on_order_canceled(self, event: Any) -> None:
            self.run.canceled += 1
            self._completed()

        def on_position_opened(self, event: Any) -> None:
            self._position_event()

        def on_position_changed(self, event: Any) -> None:
            self._position_event()

        def on_position_closed(self, event: Any) -> None:
            self._position_event()

        def _position_event(self) -> None:
            self.run.position_events += 1
            self._completed()

        def _completed(self) -> None:
            self.done += 1
            if self.done == self.total:
                self.run.elapsed_ns = now_ns() - self.began

    return BenchStrategy


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser("python -m benchmarks.nautilus_side", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000, help="measured orders (default 10,000)")
    parser.add_argument("--workload", choices=["market", "limit", "idle"], default="market")
    parser.add_argument("--log-level", default="ERROR", help="NautilusTrader's log level (default ERROR)")
    parser.add_argument("--output", type=Path, help="write the JSON figures to this file, not stdout")
    arguments = parser.parse_args(argv)
    if arguments.orders < 2:
        parser.error("--orders must be at least 2")
    if available() is None:
        sys.exit("nautilus_trader is not importable: install the `bench` extra (`uv sync --extra bench`)")
    figures = json.dumps(asdict(run_workload(arguments.workload, arguments.orders, arguments.log_level)))
    if arguments.output:
        arguments.output.write_text(figures)
    else:
        print(figures)


if __name__ == "__main__":
    main()

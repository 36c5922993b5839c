"""Kill -9 the engine at random moments and at named probes; after every restart nothing is lost.

Each crash point starts a real engine process on a shared data directory, streams signals at it
over HTTP and kills it: either at a named probe (after the order is journaled but before it is
sent; after the venue has it; after the venue's fill reached us but before our journal has it) or
at a seeded random moment. A signal that got no answer is sent again with the same idempotency key
after the restart, as a careful client would. At the end the engine's orders, fills and positions
are compared with the paper venue's own persisted state.

TRADEWIRE_CRASH_SEED reproduces a run; TRADEWIRE_CRASH_POINTS sets how many kills (default 50).
"""

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chaos.engine_process import EngineProcess, free_port
from tradewire.domain.clock import LiveClock
from tradewire.venues.paper.client import PaperVenue
from tradewire.venues.paper.config import PaperVenueConfig

SEED = int(os.environ.get("TRADEWIRE_CRASH_SEED", "20261124"))
CRASH_POINTS = int(os.environ.get("TRADEWIRE_CRASH_POINTS", "50"))
PROBES = ("order.journaled", "order.sent", "fill.received")
ENGINE_ENV = {
    "TRADEWIRE_PAPER__TICK_INTERVAL": "0.02",
    "TRADEWIRE_PAPER__SEED": str(SEED),
    # Opposite intents sent together cross inside the engine: their fills must survive a crash too.
    "TRADEWIRE_ACCOUNTS": '[{"id": "paper-1", "crossing": true}]',
}

pytestmark = pytest.mark.slow


@dataclass
class Traffic:
    """Every signal the test meant to send, and the first answer each one got."""

    rng: random.Random
    signals: dict[str, dict[str, Any] | list[dict[str, Any]]] = field(default_factory=dict)
    """A single signal, or a pair of opposite market intents sent together as a batch."""
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)

    def next_key(self) -> str:
        if self.unanswered:
            return self.unanswered.pop(0)
        key = f"crash-{len(self.signals)}"
        self.signals[key] = self._signal(key)
        return key

    def _signal(self, key: str) -> dict[str, Any] | list[dict[str, Any]]:
        rng = self.rng
        if rng.random() < 0.25:
            instrument, unit = rng.choice([("EURUSD", 1000), ("AAPL", 1)])
            return [
                {
                    "strategy": strategy,
                    "instrument": instrument,
                    "side": side,
                    "quantity": str(unit * rng.randint(1, 5)),
                    "idempotency_key": f"{key}/{strategy}",
                }
                for strategy, side in (("trend", "buy"), ("meanrev", "sell"))
            ]
        instrument, quantity = rng.choice([("BTC/USDT", "0.001"), ("EURUSD", "1000"), ("AAPL", "3")])
        side = rng.choice(["buy", "sell"])
        signal: dict[str, Any] = {
            "strategy": rng.choice(["trend", "meanrev"]),
            "instrument": instrument,
            "side": side,
            "quantity": quantity,
            "idempotency_key": key,
        }
        if rng.random() < 0.4:
            # A limit order just through the touch: some fill at once, some rest and fill later.
            signal["order_type"] = "limit"
            signal["limit_price"] = {"BTC/USDT": "65000", "EURUSD": "1.09", "AAPL": "230"}[instrument]
            if side == "sell":
                signal["limit_price"] = {"BTC/USDT": "1", "EURUSD": "0.5", "AAPL": "1"}[instrument]
        return signal

    def send(self, client: httpx.Client, key: str) -> bool:
        signal = self.signals[key]
        batch = isinstance(signal, list)
        try:
            response = client.post("/api/v1/signals/batch" if batch else "/api/v1/signals", json=signal)
        except httpx.TransportError:
            self.unanswered.append(key)
            return False
        assert response.status_code in ((200,) if batch else (200, 202, 403)), response.text
        answers = response.json() if batch else [response.json()]
        keys = [s["idempotency_key"] for s in signal] if isinstance(signal, list) else [key]
        for answer_key, answer in zip(keys, answers, strict=True):
            first = self.answers.setdefault(answer_key, answer)
            assert answer["client_order_ids"] == first["client_order_ids"], (answer_key, first, answer)
        return True

    @property
    def expected_answers(self) -> int:
        return sum(len(s) if isinstance(s, list) else 1 for s in self.signals.values())


def run_until_killed(engine: EngineProcess, traffic: Traffic, kill_after: float | None) -> None:
    """Stream signals until the engine dies at its probe, or until `kill_after` seconds pass."""
    started = time.monotonic()
    with engine.client() as client:
        for _ in range(40):
            if not engine.alive:
                break
            if kill_after is not None and time.monotonic() - started >= kill_after:
                break
            if not traffic.send(client, traffic.next_key()):
                break
    engine.kill()


def venue_truth(data_dir: Path) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        venue = PaperVenue(
            PaperVenueConfig(path=data_dir / "paper-venue.sqlite", tick_interval=None), LiveClock()
        )
        try:
            epoch = datetime(2000, 1, 1, tzinfo=UTC)
            return {
                "fills": await venue.fills_since(epoch),
                "open": await venue.open_orders(),
                "positions": await venue.positions(),
            }
        finally:
            await venue.close()

    return asyncio.run(read())


def test_kill_9_at_random_points_loses_no_fill_duplicates_no_order_and_keeps_positions(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    traffic = Traffic(rng)
    data_dir = tmp_path / "data"
    port = free_port()
    probe_kills = 0
    for point in range(CRASH_POINTS):
        if point % 3 == 2:
            crash_at, kill_after = None, rng.uniform(0.0, 0.4)
        else:
            crash_at, kill_after = f"{rng.choice(PROBES)}:{rng.randint(1, 4)}", 3.0
        env = {**ENGINE_ENV, **({"TRADEWIRE_CRASH_AT": crash_at} if crash_at else {})}
        engine = EngineProcess(data_dir, port, env)
        if engine.wait_ready():
            run_until_killed(engine, traffic, kill_after)
        else:
            engine.kill()
        probe_kills += engine.process.returncode == -9 and crash_at is not None

    # A clean start: settle every unanswered signal with its original key, let fills land.
    engine = EngineProcess(data_dir, port, ENGINE_ENV)
    assert engine.wait_ready()
    try:
        with engine.client() as client:
            while traffic.unanswered:
                assert traffic.send(client, traffic.unanswered.pop(0))
            time.sleep(1.0)
            orders = client.get("/api/v1/orders", params={"limit": 10000}).json()
            fills = client.get("/api/v1/fills", params={"limit": 10000}).json()
            positions = client.get("/api/v1/positions").json()
    finally:
        assert engine.stop() == 0
    truth = venue_truth(data_dir)

    assert probe_kills >= CRASH_POINTS // 3, "the probes must actually have fired"
    assert len(traffic.answers) == traffic.expected_answers
    # No lost fill and no fill applied twice: the engine's fills are exactly the venue's.
    venue_fills = sorted(f.fill_id for f in truth["fills"])
    engine_fills = [f["fill_id"] for f in fills if f["venue"] == "paper"]
    assert len(engine_fills) == len(set(engine_fills))
    assert sorted(engine_fills) == venue_fills
    assert venue_fills, "the run must have produced fills"
    # No duplicate order: each signal produced at most one order, and every order the venue
    # has is the one its signal's answer names.
    answered_ids = [i for answer in traffic.answers.values() for i in answer["client_order_ids"]]
    assert len(answered_ids) == len(set(answered_ids))
    engine_order_ids = {o["client_order_id"] for o in orders}
    venue_order_ids = {f.client_order_id for f in truth["fills"]} | {o.client_order_id for o in truth["open"]}
    assert venue_order_ids <= set(answered_ids)
    assert set(answered_ids) <= engine_order_ids
    # Crosses inside the engine are whole: their legs net to zero in each account and instrument.
    crossed: dict[tuple[str, str], Decimal] = {}
    for fill in (f for f in fills if f["venue"] == "internal"):
        signed = Decimal(fill["quantity"]) * (1 if fill["side"] == "buy" else -1)
        key = (fill["account"], fill["instrument"])
        crossed[key] = crossed.get(key, Decimal(0)) + signed
    assert all(total == 0 for total in crossed.values()), crossed
    assert crossed, "the run must have crossed some intents inside the engine"
    # No phantom position: the engine's account positions are the venue's.
    ours = {
        (p["account"], p["instrument"]): Decimal(p["quantity"]) for p in positions if Decimal(p["quantity"])
    }
    theirs = {(p.account, p.instrument): p.quantity for p in truth["positions"] if p.quantity}
    assert ours == theirs
    # Every order the venue still works is one the engine knows as open, and vice versa.
    open_here = {
        o["client_order_id"]
        for o in orders
        if o["status"] in {"accepted", "partially_filled", "submitted", "pending_cancel"}
    }
    assert open_here == {o.client_order_id for o in truth["open"]}

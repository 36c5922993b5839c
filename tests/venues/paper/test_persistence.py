"""The venue's own state survives closing, reopening and kill -9 of the process that ran it."""

import asyncio
import signal
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from tradewire.domain.enums import OrderType, Side, VenueOrderStatus
from tradewire.domain.ids import ClientOrderId, InstrumentId
from tradewire.venues.paper import PaperVenue

from .support import START, connected_venue, make_venue, ref, settle, spec


async def snapshot(venue: PaperVenue, client_order_ids: list[str]) -> dict[str, Any]:
    """Everything the engine can learn from the venue, as plain data."""
    statuses = {c: await venue.order_status(ClientOrderId(c)) for c in client_order_ids}
    seen: dict[str, Any] = msgspec.to_builtins(
        {
            "statuses": statuses,
            "open_orders": await venue.open_orders(),
            "fills": await venue.fills_since(START),
            "positions": await venue.positions(),
        }
    )
    return seen


async def trade_a_little(venue: PaperVenue) -> list[str]:
    """Fills, a partial fill, a resting order and a cancel; returns the client order IDs used."""
    await venue.submit(spec("m-1", quantity="150"))
    await venue.submit(spec("m-2", instrument="ESZ6", side=Side.SELL, quantity="3"))
    await venue.submit(spec("r-1", order_type=OrderType.LIMIT, limit_price="150.00"))
    await venue.submit(spec("r-2", order_type=OrderType.LIMIT, limit_price="150.00"))
    quote = venue.current_quote(InstrumentId("BTC/USDT"))
    assert quote is not None
    await venue.submit(
        spec(
            "p-1",
            instrument="BTC/USDT",
            quantity="100",
            order_type=OrderType.LIMIT,
            limit_price=str(quote.ask),
        )
    )
    await venue.cancel(ref(spec("r-2")))
    await venue.step(3)
    return ["m-1", "m-2", "r-1", "r-2", "p-1"]


async def test_a_reopened_venue_shows_the_same_orders_fills_and_positions(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    first, _, _ = await connected_venue(path=path)
    ids = await trade_a_little(first)
    await settle()
    before = await snapshot(first, ids)
    await first.close()

    second, _ = make_venue(path=path)

    assert await snapshot(second, ids) == before
    assert before["fills"]
    assert {o["client_order_id"] for o in before["open_orders"]} == {"r-1", "p-1"}


async def test_a_reopened_venue_continues_its_ids_and_refuses_old_client_order_ids(
    tmp_path: Path,
) -> None:
    path = tmp_path / "venue.sqlite"
    first, first_recorder, _ = await connected_venue(path=path)
    await first.submit(spec("m-1"))
    await settle()
    await first.close()
    old_fill_ids = {f.fill_id for f in first_recorder.fills()}

    second, recorder, _ = await connected_venue(path=path)
    await second.submit(spec("m-1"))
    await second.submit(spec("m-2"))
    await settle()

    assert recorder.last_status("m-1").status is VenueOrderStatus.REJECTED
    assert recorder.last_status("m-2").venue_order_id == "PV-2"
    assert not old_fill_ids & {f.fill_id for f in recorder.fills()}


async def test_a_reopened_venue_resumes_matching_its_resting_orders(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    first, _, _ = await connected_venue(path=path)
    quote = first.current_quote(InstrumentId("AAPL"))
    assert quote is not None
    # a sell limit just above the market: the walk will cross it within a few steps
    await first.submit(
        spec(
            "r-1",
            side=Side.SELL,
            quantity="1",
            order_type=OrderType.LIMIT,
            limit_price=str(quote.ask),
        )
    )
    await first.submit(spec("r-0", quantity="1", order_type=OrderType.LIMIT, limit_price=str(quote.bid)))
    await first.close()

    second, recorder, _ = await connected_venue(path=path)
    await second.step(200)
    await settle()

    assert {f.client_order_id for f in recorder.fills()} == {"r-0", "r-1"}


CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from datetime import UTC, datetime
    from decimal import Decimal
    from pathlib import Path

    import msgspec

    from tradewire.domain.clock import ManualClock
    from tradewire.domain.enums import OrderType, Side, TimeInForce
    from tradewire.domain.events import OrderSpec
    from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, StrategyId, VenueId
    from tradewire.venues.paper import PaperVenue, PaperVenueConfig

    def spec(client_order_id, side, quantity, order_type=OrderType.MARKET, limit=None):
        return OrderSpec(
            client_order_id=ClientOrderId(client_order_id), account=AccountId("acct-1"),
            strategy=StrategyId("s"), instrument=InstrumentId("AAPL"), venue=VenueId("paper"),
            side=side, order_type=order_type, quantity=Decimal(quantity),
            time_in_force=TimeInForce.GTC, limit_price=None if limit is None else Decimal(limit),
        )

    async def main():
        clock = ManualClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
        config = PaperVenueConfig(path=Path(sys.argv[1]), tick_interval=None)
        venue = PaperVenue(config, clock)
        await venue.connect(lambda r: None, lambda q: None, lambda v, c: None)
        await venue.submit(spec("k-1", Side.BUY, "700"))
        await venue.submit(spec("k-2", Side.SELL, "200"))
        await venue.submit(spec("k-3", Side.BUY, "5", OrderType.LIMIT, "150.00"))
        await venue.step(5)
        snapshot = {
            "statuses": {c: await venue.order_status(ClientOrderId(c))
                         for c in ("k-1", "k-2", "k-3")},
            "open_orders": await venue.open_orders(),
            "fills": await venue.fills_since(clock.now()),
            "positions": await venue.positions(),
        }
        with open(sys.argv[2], "wb") as file:
            file.write(msgspec.json.encode(snapshot))
            file.flush()
            os.fsync(file.fileno())
        # die before any report is delivered and without closing anything
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


async def test_after_kill_9_of_the_process_running_the_venue_a_new_venue_sees_the_same_state(
    tmp_path: Path,
) -> None:
    path = tmp_path / "venue.sqlite"
    seen_path = tmp_path / "seen.json"

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(path),
        str(seen_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(child.communicate(), timeout=60)

    assert child.returncode == -signal.SIGKILL, stderr.decode()
    seen = msgspec.json.decode(seen_path.read_bytes())
    reopened, _ = make_venue(path=path)
    assert await snapshot(reopened, ["k-1", "k-2", "k-3"]) == seen
    [position] = seen["positions"]
    assert Decimal(position["quantity"]) == 500
    assert seen["open_orders"][0]["client_order_id"] == "k-3"

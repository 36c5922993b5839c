"""The paper venue as a busy or refusing venue: scripted and seeded `VenueBusy` refusals, after
which the venue has not acted (no order, no report), so the engine's retries can be driven."""

from decimal import Decimal

import pytest

from tests.venues.paper.support import ACCOUNT, connected_venue, settle, spec
from tradewire.domain.enums import OrderType, VenueOrderStatus
from tradewire.domain.errors import VenueBusy, VenueRefused
from tradewire.domain.ids import ClientOrderId, InstrumentId
from tradewire.venues.port import OrderRef


async def test_a_simulated_busy_request_is_refused_and_not_acted_on() -> None:
    venue, recorder, _ = await connected_venue()
    venue.simulate_busy(2, retry_after=0.5)
    for _ in range(2):
        with pytest.raises(VenueBusy) as busy:
            await venue.submit(spec("b-1", quantity="1"))
        assert busy.value.retry_after == 0.5
    await settle()
    assert recorder.statuses("b-1") == []
    assert await venue.order_status(ClientOrderId("b-1")) is None
    await venue.submit(spec("b-1", quantity="1"))
    await settle()
    assert recorder.statuses("b-1"), "the third try reaches the venue"


async def test_cancels_and_amends_can_be_refused_too() -> None:
    venue, recorder, _ = await connected_venue()
    await venue.submit(spec("r-1", quantity="1", order_type=OrderType.LIMIT, limit_price="1.00"))
    await settle()
    ref = OrderRef(
        client_order_id=ClientOrderId("r-1"),
        venue_order_id=None,
        account=ACCOUNT,
        instrument=InstrumentId("AAPL"),
    )
    venue.fail_next_requests(VenueRefused("order_not_found", "no such order"), VenueBusy("busy"))
    with pytest.raises(VenueRefused, match="no such order"):
        await venue.cancel(ref)
    with pytest.raises(VenueBusy):
        await venue.modify(ref, Decimal(2), Decimal("1.00"), None)
    await settle()
    [working] = await venue.open_orders()
    assert (working.client_order_id, working.quantity) == ("r-1", Decimal(1)), "neither was acted on"
    assert recorder.statuses("r-1")[-1] is VenueOrderStatus.ACCEPTED


async def test_the_busy_probability_is_seeded() -> None:
    async def busy_tries(seed: int) -> list[int]:
        venue, _, _ = await connected_venue(busy_probability=Decimal("0.5"), seed=seed)
        refused = []
        for n in range(40):
            try:
                await venue.submit(spec(f"p-{n}", quantity="1"))
            except VenueBusy:
                refused.append(n)
        return refused

    first = await busy_tries(3)
    assert 5 < len(first) < 35
    assert first == await busy_tries(3)

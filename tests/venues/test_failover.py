"""The failover wrapper: one `VenueClient` whichever of a venue's connections carries it."""

from pathlib import Path

import pytest

from tests.factories import make_spec
from tradewire.domain.clock import ManualClock
from tradewire.domain.errors import VenueUnavailable
from tradewire.domain.ids import ClientOrderId, VenueId
from tradewire.domain.market import Quote
from tradewire.domain.reports import ExecutionReport
from tradewire.venues.failover import PRIMARY, Connection, FailoverVenue
from tradewire.venues.paper import PaperVenue, PaperVenueConfig


class Recorder:
    def __init__(self) -> None:
        self.reports: list[ExecutionReport] = []
        self.connection: list[bool] = []

    def on_report(self, report: ExecutionReport) -> None:
        self.reports.append(report)

    def on_quote(self, quote: Quote) -> None:
        del quote

    def on_connection(self, venue: VenueId, connected: bool) -> None:
        self.connection.append(connected)


def up(venue: FailoverVenue) -> bool:
    """Read afresh: the connection changes under our feet."""
    return venue.connected


def paper(directory: Path, venue: str = "paper") -> PaperVenue:
    config = PaperVenueConfig(venue=venue, path=directory / f"{venue}-venue.sqlite", tick_interval=None)
    return PaperVenue(config, ManualClock())


async def test_a_switch_closes_the_connection_left_and_the_backup_carries_the_venue(tmp_path: Path) -> None:
    primary = paper(tmp_path)
    venue = FailoverVenue(
        [Connection(PRIMARY, primary.new_session), Connection("backup-1", primary.new_session)], first=primary
    )
    recorder = Recorder()
    await venue.connect(recorder.on_report, recorder.on_quote, recorder.on_connection)
    await primary.step()
    primary.simulate_outage()

    assert await venue.switch_to_next() == "backup-1"
    assert not up(venue) and venue.on_backup
    with pytest.raises(VenueUnavailable, match="was closed"):
        primary.step_sync()
    await venue.reconnect()

    assert up(venue) and recorder.connection == [True, False, True]
    [aapl] = [i for i in venue.instruments() if i.instrument_id == "AAPL"]
    spec = make_spec(client_order_id="after-failover", instrument=aapl, limit_price="1", quantity="1")
    await venue.submit(spec)
    status = await venue.order_status(ClientOrderId("after-failover"))
    assert status is not None and status.client_order_id == "after-failover"
    another = primary.new_session()
    found = await another.order_status(ClientOrderId("after-failover"))
    await another.close()
    assert found is not None, "the backup is a session of the same venue: the order is in its book"
    await venue.close()


async def test_with_one_connection_the_engine_holds_the_client_itself(tmp_path: Path) -> None:
    primary = paper(tmp_path)

    single = FailoverVenue([Connection(PRIMARY, lambda: primary)], first=primary)

    assert single.client is primary
    assert single.connection_names == ("primary",)
    await primary.close()


def test_connection_names_must_differ(tmp_path: Path) -> None:
    primary = paper(tmp_path)
    with pytest.raises(ValueError, match="must differ"):
        FailoverVenue(
            [Connection(PRIMARY, lambda: primary), Connection(PRIMARY, lambda: primary)], first=primary
        )


async def test_a_backup_that_reaches_another_venue_is_refused(tmp_path: Path) -> None:
    primary = paper(tmp_path)
    venue = FailoverVenue(
        [Connection(PRIMARY, lambda: primary), Connection("elsewhere", lambda: paper(tmp_path, "other"))],
        first=primary,
    )
    recorder = Recorder()
    await venue.connect(recorder.on_report, recorder.on_quote, recorder.on_connection)
    await venue.switch_to_next()

    with pytest.raises(ValueError, match="reaches venue other, not paper"):
        await venue.reconnect()
    await venue.close()

"""Build the configured venue adapters. The one place that knows which adapters exist."""

import os
from collections.abc import Callable, Mapping

from tradewire.domain.clock import Clock
from tradewire.domain.ids import VenueId
from tradewire.runtime.settings import Settings
from tradewire.venues.ccxt.config import load_credentials
from tradewire.venues.failover import PRIMARY, Connection, FailoverVenue
from tradewire.venues.paper.client import PaperVenue
from tradewire.venues.paper.config import PaperVenueConfig
from tradewire.venues.port import VenueClient


def build_venues(settings: Settings, clock: Clock) -> dict[VenueId, VenueClient]:
    venues: dict[VenueId, VenueClient] = {}
    for index, paper_settings in enumerate((settings.paper, *settings.extra_paper_venues)):
        if not paper_settings.enabled:
            continue
        fields = paper_settings.model_dump(exclude={"enabled"})
        own_file = settings.data_dir / f"{paper_settings.venue}-venue.sqlite"
        fields["path"] = paper_settings.path or (settings.paper_path if index == 0 else own_file)
        paper = PaperVenue(PaperVenueConfig(**fields), clock)
        if paper.venue in venues:
            raise ValueError(f"two paper venues are named {paper.venue!r}; give each its own `venue`")
        venues[paper.venue] = paper
    for ccxt_settings in settings.ccxt_venues:
        from tradewire.venues.ccxt.client import CcxtVenue  # noqa: PLC0415 - ccxt loads slowly; only when used

        exchange = CcxtVenue(ccxt_settings, clock, load_credentials(ccxt_settings, os.environ))
        if exchange.venue in venues:
            raise ValueError(f"two venues are named {exchange.venue!r}; give each its own `venue`")
        venues[exchange.venue] = exchange
    return venues


def venue_connections(
    settings: Settings, venues: Mapping[VenueId, VenueClient]
) -> dict[VenueId, FailoverVenue]:
    """Each venue's connections, primary first, with the backups `connectivity.backup_connections`
    names. A paper venue's backup (and its primary, reopened after a failover) is another session
    on the same venue file; an adapter without a way to open a backup cannot be given one."""
    backups = settings.connectivity.backup_connections
    unknown = sorted(set(backups) - set(venues))
    if unknown:
        raise ValueError(
            f"connectivity.backup_connections names {unknown}, which are not configured venues "
            f"(configured: {sorted(venues)})"
        )
    connections: dict[VenueId, FailoverVenue] = {}
    for venue_id, client in venues.items():
        names = backups.get(venue_id, ())
        opener = _session_opener(client)
        if names and opener is None:
            raise ValueError(f"venue {venue_id}'s adapter cannot open a backup connection")
        reopen = opener or _the_same(client)
        connections[venue_id] = FailoverVenue(
            [Connection(PRIMARY, reopen), *(Connection(name, reopen) for name in names)], first=client
        )
    return connections


def _session_opener(client: VenueClient) -> Callable[[], VenueClient] | None:
    if isinstance(client, PaperVenue):
        return client.new_session
    return None


def _the_same(client: VenueClient) -> Callable[[], VenueClient]:
    """For an adapter that cannot open another session: its one client, reconnected in place."""
    return lambda: client

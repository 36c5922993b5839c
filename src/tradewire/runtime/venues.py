"""Build the configured venue adapters. The one place that knows which adapters exist."""

from tradewire.domain.clock import Clock
from tradewire.domain.ids import VenueId
from tradewire.runtime.settings import Settings
from tradewire.venues.paper.client import PaperVenue
from tradewire.venues.paper.config import PaperVenueConfig
from tradewire.venues.port import VenueClient


def build_venues(settings: Settings, clock: Clock) -> dict[VenueId, VenueClient]:
    venues: dict[VenueId, VenueClient] = {}
    if settings.paper.enabled:
        fields = settings.paper.model_dump(exclude={"enabled"})
        fields["path"] = settings.paper_path
        paper = PaperVenue(PaperVenueConfig(**fields), clock)
        venues[paper.venue] = paper
    return venues

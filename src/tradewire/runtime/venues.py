"""Build the configured venue adapters. The one place that knows which adapters exist."""

from tradewire.domain.clock import Clock
from tradewire.domain.ids import VenueId
from tradewire.runtime.settings import Settings
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
    return venues

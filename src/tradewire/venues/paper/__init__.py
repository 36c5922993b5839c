"""The built-in paper venue: a simulated broker behind `VenueClient`, not a dry-run flag.

Data flow: feed.py (quotes) -> matching.py (pure rules) -> store.py (the venue's SQLite file,
committed first) or memory.py (plain Python data when there is no file) -> mapping.py (pure
translation to reports) -> client.py (`PaperVenue`, report delivery and faults).
"""

from tradewire.venues.paper.catalog import DEFAULT_INSTRUMENTS, SimulatedInstrument
from tradewire.venues.paper.client import PaperVenue
from tradewire.venues.paper.config import DisconnectWindow, PaperVenueConfig
from tradewire.venues.paper.feed import QuoteFileError

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "DisconnectWindow",
    "PaperVenue",
    "PaperVenueConfig",
    "QuoteFileError",
    "SimulatedInstrument",
]

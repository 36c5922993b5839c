"""Identifiers are their own types so a parameter says which one it takes."""

from typing import NewType

ClientOrderId = NewType("ClientOrderId", str)
"""Our ID for an order; unique across restarts; sent to the venue as its client order ID."""
VenueOrderId = NewType("VenueOrderId", str)
"""The venue's ID for an order; stored beside ours, never used as our key."""
FillId = NewType("FillId", str)
"""The venue's execution ID; fills are deduplicated by (venue, fill ID)."""
InstrumentId = NewType("InstrumentId", str)
AccountId = NewType("AccountId", str)
StrategyId = NewType("StrategyId", str)
VenueId = NewType("VenueId", str)
SignalId = NewType("SignalId", str)
EventId = NewType("EventId", str)

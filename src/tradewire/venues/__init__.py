"""Venue adapters: the only code that does venue I/O. One package per venue behind `VenueClient`."""

"""Tradewire: the layer between trade signals and brokers.

Signals become orders a venue accepts: sized to the instrument's rules, checked by the risk gate,
journaled before they are sent, followed through their lifecycle and reconciled with the venue.
"""

__version__ = "0.1.0"

"""Crypto exchanges through ccxt (binance, bybit, okx, kraken, coinbase): one adapter, differences as data.

Data flow: exchanges.py (what differs, declared) -> mapping.py (pure translation: markets to
instruments, orders to requests, ccxt structures to reports, errors to handling) -> client.py
(`CcxtVenue`: REST requests, WebSocket watch loops, reconnects); config.py holds the settings.

Importing ccxt takes seconds, so this package imports nothing on its own: an engine with no
crypto venue configured never loads ccxt. Import `tradewire.venues.ccxt.client` where it is needed.
"""

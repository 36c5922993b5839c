"""A local fake crypto exchange (Binance spot and Bybit v5) for driving the real ccxt offline.

See `server.py` for how to start it and point ccxt at it (`FakeExchange`, `ccxt_urls`, `ccxt_markets`).
"""

from tests.fakes.exchange.server import FakeExchange, ccxt_markets, ccxt_urls, every_url

__all__ = ["FakeExchange", "ccxt_markets", "ccxt_urls", "every_url"]

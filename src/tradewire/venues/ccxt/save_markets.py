"""Save an exchange's markets to the file a ccxt venue's `markets_file` names.

The engine builds its instrument catalog before it connects, so a ccxt venue reads its markets from
disk (no network at start-up, and the same rules until the file is saved again). Run once, and again
when the exchange lists new symbols or changes tick or lot sizes:

    python -m tradewire.venues.ccxt.save_markets bybit var/bybit-markets.json [--testnet]

Only public market data is fetched: no credentials are needed or read.
"""

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ccxt.pro as ccxt_pro

from tradewire.venues.ccxt.exchanges import PROFILES, profile


async def save_markets(exchange_name: str, path: Path, *, testnet: bool = False, exchange: Any = None) -> int:
    """Load the exchange's markets and write them to `path` as JSON; the number of markets saved.
    `exchange` replaces the ccxt object (tests)."""
    exchange_profile = profile(exchange_name)
    client = exchange
    if client is None:
        client = getattr(ccxt_pro, exchange_profile.ccxt_id)(
            {"enableRateLimit": True, "options": dict(exchange_profile.ccxt_options)}
        )
        if testnet:
            client.set_sandbox_mode(True)
    try:
        markets = await client.load_markets()
    finally:
        await client.close()
    text = json.dumps(markets, indent=1, sort_keys=True, default=str)
    await asyncio.to_thread(_write, path, text)
    return len(markets)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tradewire.venues.ccxt.save_markets", description=__doc__.split("\n")[0]
    )
    parser.add_argument("exchange", choices=sorted(PROFILES))
    parser.add_argument("file", type=Path)
    parser.add_argument("--testnet", action="store_true", help="the exchange's testnet markets")
    arguments = parser.parse_args(argv)
    count = asyncio.run(save_markets(arguments.exchange, arguments.file, testnet=arguments.testnet))
    print(f"saved {count} {arguments.exchange} markets to {arguments.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

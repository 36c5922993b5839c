"""Building the ccxt exchange object, and reading saved markets (the one place that constructs ccxt)."""

import json
from typing import Any

import ccxt.pro as ccxt_pro

from tradewire.venues.ccxt import mapping
from tradewire.venues.ccxt.config import CcxtVenueConfig, Credentials
from tradewire.venues.ccxt.exchanges import ExchangeProfile


def read_markets_file(config: CcxtVenueConfig) -> dict[str, Any] | None:
    if config.markets_file is None:
        return None
    try:
        markets = json.loads(config.markets_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{config.venue}: cannot read markets file {config.markets_file}: {error}") from None
    if not isinstance(markets, dict):
        raise ValueError(f"{config.venue}: markets file {config.markets_file} must map symbols to markets")
    return markets


def build_exchange(
    config: CcxtVenueConfig,
    exchange_profile: ExchangeProfile,
    credentials: Credentials,
    markets: dict[str, Any] | None,
) -> Any:
    """The ccxt.pro exchange object: rate limited, never verbose, URLs overridden as configured."""
    settings: dict[str, Any] = {
        "enableRateLimit": True,
        "rateLimit": config.rate_limit_ms
        if config.rate_limit_ms is not None
        else exchange_profile.rate_limit_ms,
        "timeout": int(config.request_timeout * 1000),
        "verbose": False,  # verbose prints every request, headers (the API key) included
        "options": dict(exchange_profile.ccxt_options),
    }
    for key, secret in (
        ("apiKey", credentials.api_key),
        ("secret", credentials.secret),
        ("password", credentials.password),
    ):
        if secret is not None:
            settings[key] = secret.get_secret_value()
    if markets is not None:
        settings["markets"] = markets
    exchange = getattr(ccxt_pro, exchange_profile.ccxt_id)(settings)
    if config.testnet:
        exchange.set_sandbox_mode(True)
    for path, url in config.urls.items():
        *parents, leaf = path.split(".")
        node = exchange.urls["api"]
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = url
    return exchange


def saved_markets(config: CcxtVenueConfig, exchange_profile: ExchangeProfile) -> dict[str, Any] | None:
    """The markets file, completed for today's ccxt (and with tick-size precision where declared)."""
    markets = read_markets_file(config)
    if markets is None:
        return None
    markets = {symbol: mapping.with_unified_keys(market) for symbol, market in markets.items()}
    if exchange_profile.precision_from_info_filters:
        markets = {symbol: mapping.with_tick_size_precision(market) for symbol, market in markets.items()}
    return markets

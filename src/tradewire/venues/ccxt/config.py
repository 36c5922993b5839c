"""Settings of one exchange account traded through ccxt: a frozen typed model, unknown keys rejected.

Credentials are `SecretStr` and come from one of three places, first found wins: the value itself
(`api_key`, ...), an environment variable named by `api_key_env` (...), or `secrets_file`. The
environment is handed in by the runtime (`load_credentials(config, os.environ)`), never read here on
our own; `repr` and logs show `**********` for every secret.
"""

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from tradewire.venues.ccxt.exchanges import PROFILES, ExchangeName


class CcxtVenueConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: str = Field(min_length=1)
    """Our name for this venue (accounts name it in `venue`)."""
    exchange: ExchangeName
    account: str = Field(min_length=1)
    """The account ID every report of this venue carries (one exchange account per venue)."""
    symbols: tuple[str, ...] = Field(min_length=1)
    """ccxt unified symbols to trade: "BTC/USDT" (spot), "BTC/USDT:USDT" (linear perpetual)."""
    instrument_ids: dict[str, str] = {}
    """ccxt symbol -> our instrument ID, where they differ (default: the ccxt symbol itself)."""
    testnet: bool = False
    """Use the exchange's testnet/demo URLs (binance, bybit, okx only)."""
    api_key: SecretStr | None = None
    secret: SecretStr | None = None
    password: SecretStr | None = None
    """The API passphrase (OKX)."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key."""
    secret_env: str | None = None
    password_env: str | None = None
    secrets_file: Path | None = None
    """A TOML or JSON file with `api_key`, `secret` and (OKX) `password`."""
    markets_file: Path | None = None
    """Saved `load_markets()` output: instruments without network, before connecting. Required: the
    engine builds its instrument catalog before it connects (see `_check`)."""
    urls: dict[str, str] = {}
    """Overrides of ccxt `urls['api']` entries by dotted path, e.g. {"public": "http://127.0.0.1:8080/api/v3",
    "ws.spot": "ws://127.0.0.1:8080/ws"}; applied after testnet URLs are chosen."""
    rate_limit_ms: int | None = Field(default=None, ge=0)
    """Milliseconds between requests; default: the exchange's declared limit."""
    request_timeout: float = Field(default=10.0, gt=0)
    """Seconds before ccxt gives up on one HTTP request (the outcome of a create is then unknown)."""
    watch: bool = True
    """Follow orders and fills on the user-data WebSocket; off: REST answers and reconciliation only."""
    reconnect_delay: float = Field(default=1.0, gt=0)
    """First wait before reconnecting the WebSocket; doubles per failure up to `reconnect_delay_max`."""
    reconnect_delay_max: float = Field(default=30.0, gt=0)
    leverage: dict[str, Decimal] = {}
    """Perpetual symbol -> leverage, set at the exchange at every connect, e.g. {"BTC/USDT:USDT": 5}.
    Only perpetuals of `symbols` (checked against the markets when the venue is built); unlisted
    perpetuals keep whatever leverage the account has at the exchange."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        profile = PROFILES[self.exchange]
        if self.testnet and not profile.testnet:
            testnets = ", ".join(name for name, p in PROFILES.items() if p.testnet)
            raise ValueError(
                f"{self.exchange} has no testnet in ccxt (testnet: true accepted for {testnets})"
            )
        if self.markets_file is None:
            raise ValueError(
                f"{self.venue}: markets_file is required (the engine builds its instrument catalog before "
                "it connects, so the markets must be on disk); save them once with "
                f"`python -m tradewire.venues.ccxt.save_markets {self.exchange} <file>` "
                "(docs/venues/ccxt.md, 'Markets file')"
            )
        unknown = sorted(set(self.instrument_ids) - set(self.symbols))
        if unknown:
            raise ValueError(f"instrument_ids names symbols that are not in `symbols`: {', '.join(unknown)}")
        ids = [self.instrument_id(symbol) for symbol in self.symbols]
        if len(set(ids)) != len(ids):
            raise ValueError("two symbols map to the same instrument ID")
        not_traded = sorted(set(self.leverage) - set(self.symbols))
        if not_traded:
            raise ValueError(
                f"{self.venue}: leverage is given for {', '.join(not_traded)}, which is not in `symbols` "
                f"(accepted: perpetuals of {', '.join(self.symbols)})"
            )
        for symbol, leverage in self.leverage.items():
            if leverage <= 0:  # pydantic already refuses NaN and infinity
                raise ValueError(
                    f"{self.venue}: leverage {leverage} for {symbol} is not accepted "
                    "(a number above 0, e.g. 5)"
                )
        for key in self.urls:
            if not key or any(not part for part in key.split(".")):
                raise ValueError(f"urls key {key!r} is not a dotted path like 'public' or 'ws.spot'")
        return self

    def instrument_id(self, symbol: str) -> str:
        return self.instrument_ids.get(symbol, symbol)


def dotted_urls(tree: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    """A nested `urls['api']` tree as the flat dotted map `CcxtVenueConfig.urls` takes (e.g. to point
    every URL of an exchange at a local fake: rewrite the tree, then pass `dotted_urls(tree)`)."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(dotted_urls(value, f"{path}."))
        elif isinstance(value, str):
            flat[path] = value
    return flat


@dataclass(frozen=True, slots=True)
class Credentials:
    """API credentials; `repr` never shows them."""

    api_key: SecretStr | None
    secret: SecretStr | None
    password: SecretStr | None = None

    def secrets(self) -> list[str]:
        """The plain values, for redacting them from error messages."""
        values = (self.api_key, self.secret, self.password)
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


class CredentialsError(ValueError):
    """The configured credentials cannot be read; says which source and why, never the values."""


def load_credentials(config: CcxtVenueConfig, environ: Mapping[str, str]) -> Credentials:
    """The venue's credentials from its config, the given environment and its secrets file."""
    from_file = _read_secrets_file(config.secrets_file) if config.secrets_file is not None else {}

    def pick(value: SecretStr | None, env_name: str | None, key: str) -> SecretStr | None:
        if value is not None:
            return value
        if env_name is not None:
            if env_name not in environ:
                raise CredentialsError(f"{config.venue}: environment variable {env_name} ({key}) is not set")
            return SecretStr(environ[env_name])
        return SecretStr(from_file[key]) if key in from_file else None

    credentials = Credentials(
        api_key=pick(config.api_key, config.api_key_env, "api_key"),
        secret=pick(config.secret, config.secret_env, "secret"),
        password=pick(config.password, config.password_env, "password"),
    )
    if (credentials.api_key is None) != (credentials.secret is None):
        raise CredentialsError(f"{config.venue}: give both an API key and a secret, or neither")
    needs_password = credentials.api_key is not None and PROFILES[config.exchange].requires_password
    if needs_password and credentials.password is None:
        raise CredentialsError(f"{config.venue}: {config.exchange} also needs the API passphrase (password)")
    return credentials


def _read_secrets_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CredentialsError(f"cannot read secrets file {path}: {error.strerror}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError):
        # The parser's message may quote the file's content: leave it out.
        raise CredentialsError(
            f"secrets file {path} is not valid {path.suffix.lstrip('.') or 'JSON'}"
        ) from None
    if not isinstance(data, dict):
        raise CredentialsError(f"secrets file {path} must hold a table of api_key, secret, password")
    accepted = {"api_key", "secret", "password"}
    unknown = sorted(set(data) - accepted)
    if unknown:
        raise CredentialsError(
            f"secrets file {path}: unknown keys {unknown} (accepted: api_key, secret, password)"
        )
    if not all(isinstance(value, str) for value in data.values()):
        raise CredentialsError(f"secrets file {path}: every value must be a string")
    return dict(data)

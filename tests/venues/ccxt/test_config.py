"""Credentials come from the config, the environment or a secrets file, and never show in a repr."""

import json
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from tradewire.domain.clock import ManualClock
from tradewire.domain.ids import VenueId
from tradewire.runtime.settings import Settings
from tradewire.runtime.venues import build_venues
from tradewire.venues.ccxt.client import CcxtVenue
from tradewire.venues.ccxt.config import CcxtVenueConfig, CredentialsError, dotted_urls, load_credentials

from .support import API_KEY, SECRET, config


def test_credentials_are_read_from_the_named_environment_variables() -> None:
    settings = config("bybit", ("BTC/USDT",), api_key_env="BYBIT_KEY", secret_env="BYBIT_SECRET")

    credentials = load_credentials(settings, {"BYBIT_KEY": API_KEY, "BYBIT_SECRET": SECRET})

    assert credentials.api_key is not None and credentials.api_key.get_secret_value() == API_KEY
    assert credentials.secret is not None and credentials.secret.get_secret_value() == SECRET
    assert API_KEY not in repr(credentials) and SECRET not in repr(credentials)


def test_a_missing_environment_variable_is_named_without_any_value() -> None:
    settings = config("bybit", ("BTC/USDT",), api_key_env="BYBIT_KEY", secret_env="BYBIT_SECRET")

    with pytest.raises(CredentialsError, match="BYBIT_SECRET"):
        load_credentials(settings, {"BYBIT_KEY": API_KEY})


def test_credentials_are_read_from_a_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "okx.toml"
    secrets.write_text(f'api_key = "{API_KEY}"\nsecret = "{SECRET}"\npassword = "p"\n')
    settings = config("okx", ("BTC/USDT",), secrets_file=secrets)

    credentials = load_credentials(settings, {})

    assert credentials.password is not None and credentials.password.get_secret_value() == "p"


def test_a_malformed_secrets_file_is_refused_without_quoting_it(tmp_path: Path) -> None:
    secrets = tmp_path / "keys.json"
    secrets.write_text('{"api_key": "' + API_KEY + '", ')

    with pytest.raises(CredentialsError) as raised:
        load_credentials(config("bybit", ("BTC/USDT",), secrets_file=secrets), {})

    assert API_KEY not in str(raised.value)


def test_okx_without_its_passphrase_is_refused(tmp_path: Path) -> None:
    secrets = tmp_path / "keys.json"
    secrets.write_text(json.dumps({"api_key": API_KEY, "secret": SECRET}))

    with pytest.raises(CredentialsError, match="passphrase"):
        load_credentials(config("okx", ("BTC/USDT",), secrets_file=secrets), {})


def test_the_config_and_the_venue_never_show_a_secret() -> None:
    settings = config("bybit", ("BTC/USDT",), api_key=SecretStr(API_KEY), secret=SecretStr(SECRET))
    venue = CcxtVenue(settings, ManualClock(), load_credentials(settings, {}))

    shown = repr(settings) + str(settings) + repr(venue) + settings.model_dump_json()

    assert API_KEY not in shown and SECRET not in shown
    assert venue.exchange.verbose is False
    assert venue.exchange.enableRateLimit is True


def test_testnet_is_refused_where_ccxt_has_none() -> None:
    with pytest.raises(ValidationError, match="kraken has no testnet"):
        config("kraken", ("BTC/USDT",), testnet=True)


def test_testnet_switches_to_the_sandbox_urls_and_overrides_apply_after_it() -> None:
    settings = config(
        "bybit",
        ("BTC/USDT",),
        testnet=True,
        urls={"public": "http://127.0.0.1:9/public", "ws.private": "ws://127.0.0.1:9/p"},
    )

    venue = CcxtVenue(settings, ManualClock())

    assert venue.exchange.isSandboxModeEnabled is True
    assert venue.exchange.urls["api"]["public"] == "http://127.0.0.1:9/public"
    assert venue.exchange.urls["api"]["ws"]["private"] == "ws://127.0.0.1:9/p"


def test_unknown_keys_and_exchanges_are_refused_with_what_is_accepted() -> None:
    with pytest.raises(ValidationError, match="binance"):
        CcxtVenueConfig.model_validate(
            {"venue": "x", "exchange": "mtgox", "account": "a", "symbols": ["BTC/USD"]}
        )
    with pytest.raises(ValidationError, match="extra"):
        CcxtVenueConfig.model_validate(
            {"venue": "x", "exchange": "okx", "account": "a", "symbols": ["BTC/USD"], "colour": "red"}
        )


def test_the_settings_tree_takes_ccxt_venues() -> None:
    venue = {
        "venue": "bybit",
        "exchange": "bybit",
        "account": "b-1",
        "symbols": ["BTC/USDT"],
        "markets_file": "var/bybit-markets.json",
    }

    settings = Settings.model_validate({"ccxt_venues": [venue]})

    assert settings.ccxt_venues[0].exchange == "bybit"


def test_build_venues_builds_a_ccxt_venue_with_credentials_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEST_BYBIT_KEY", API_KEY)
    monkeypatch.setenv("TEST_BYBIT_SECRET", SECRET)
    venue = config("bybit", ("BTC/USDT",), api_key_env="TEST_BYBIT_KEY", secret_env="TEST_BYBIT_SECRET")
    settings = Settings.model_validate({"data_dir": tmp_path, "ccxt_venues": [venue.model_dump()]})

    venues = build_venues(settings, ManualClock())

    built = venues[VenueId("bybit")]
    assert isinstance(built, CcxtVenue)
    assert built.exchange.apiKey == API_KEY
    assert [i.instrument_id for i in built.instruments()] == ["BTC/USDT"]


def test_a_whole_url_tree_pointed_at_a_local_server_applies_through_dotted_keys() -> None:
    original = CcxtVenue(config("binance", ("BTC/USDT",)), ManualClock()).exchange.urls["api"]
    local = {key: f"http://127.0.0.1:9/{key}" for key in dotted_urls(original)}

    venue = CcxtVenue(config("binance", ("BTC/USDT",), urls=local), ManualClock())

    assert dotted_urls(venue.exchange.urls["api"]) == local
    assert venue.exchange.urls["api"]["ws"]["spot"] == "http://127.0.0.1:9/ws.spot"

"""One typed, frozen settings tree. Unknown keys are rejected; secrets are `SecretStr`.

Precedence, highest first: command-line flags, environment (`TRADEWIRE_...`, nested with `__`,
e.g. `TRADEWIRE_API__PORT=9000`), the TOML config file, then these defaults. Components never read
the environment themselves; they get their part of this tree.
"""

from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tradewire.domain.limits import Limits
from tradewire.journal.backends import FILE_NAMES, Backend
from tradewire.runtime.settings_connectivity import ConnectivitySettings
from tradewire.runtime.settings_sessions import SessionSettings
from tradewire.runtime.venue_requests import VenueRequestSettings
from tradewire.venues.ccxt.config import CcxtVenueConfig
from tradewire.venues.paper.config import PaperVenueConfig

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class ApiSettings(BaseModel):
    model_config = _FROZEN
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class JournalSettings(BaseModel):
    model_config = _FROZEN
    backend: Backend = "sqlite"
    """sqlite: one SQLite file (queryable with any SQLite tool). log: an append-only file written
    with one `write()` per batch; faster on the signal -> send path (docs/configuration.md)."""
    path: Path | None = None
    """Default: `<data_dir>/journal.sqlite` (sqlite) or `<data_dir>/journal.log` (log)."""
    durability: Literal["fsync", "os"] = "fsync"
    """fsync: every group commit is fsynced (survives power loss). os: handed to the OS only
    (survives a killed process, not a power cut); faster."""


class PaperSettings(PaperVenueConfig):
    """The built-in paper venue (see `tradewire.venues.paper.config`), on by default."""

    enabled: bool = True


class ReconciliationSettings(BaseModel):
    """What reconciliation does with what it finds (see docs/recovery.md)."""

    model_config = _FROZEN
    unknown_orders: Literal["adopt", "cancel", "alert"] = "adopt"
    """An order open at a venue that the journal does not know: adopt it as strategy `external`
    (risk and positions see it), cancel it, or only alert."""
    position_tolerance: Decimal = Field(default=Decimal(0), ge=0)
    """A position that differs from the venue's by more than this halts the account."""


class RoutingSettings(BaseModel):
    """How a venue is chosen for an order that names no account (see `execution/routing.py`)."""

    model_config = _FROZEN
    venue_preference: dict[str, tuple[str, ...]] = {}
    """Instrument ID (or "*" for all) -> venues, most preferred first."""
    best_price: bool = True
    """Among connected venues listing the instrument, send to the best touch."""


class AccountSettings(BaseModel):
    model_config = _FROZEN
    id: str
    venue: str = "paper"
    currency: str = "USD"
    capital: Decimal | None = Field(default=None, gt=0)
    """For allocations pro rata to capital."""
    crossing: bool = False
    """Cross opposite market intents of this account's strategies submitted together (a batch)
    inside the engine at the mid, and send only the net to the venue."""


class AllocationSettings(BaseModel):
    """How a strategy's signals that name no account fan out across accounts."""

    model_config = _FROZEN
    method: Literal["weights", "capital", "fixed"]
    accounts: dict[str, Decimal]
    """weights: account -> weight; fixed: account -> quantity; capital: the accounts (values unused,
    each account's `capital` is its weight)."""


class StrategySettings(BaseModel):
    model_config = _FROZEN
    id: str
    account: str | None = None
    """Default account for this strategy's signals that name none."""


def _check_limits(value: dict[str, Any]) -> dict[str, Any]:
    try:
        msgspec.convert(value, Limits)
    except msgspec.ValidationError as error:
        raise ValueError(f"{error} (fields: {', '.join(Limits.__struct_fields__)})") from error
    return value


LimitsTable = Annotated[dict[str, Any], AfterValidator(_check_limits)]
"""One scope's limits; the fields are those of `tradewire.domain.limits.Limits`."""


class RiskSettings(BaseModel):
    """Limits per scope, as a starting point: changes made at run time (API, CLI) are journaled
    and win until this file's limits for that scope change."""

    model_config = _FROZEN
    portfolio: LimitsTable = {}
    accounts: dict[str, LimitsTable] = {}
    strategies: dict[str, LimitsTable] = {}
    venues: dict[str, LimitsTable] = {}
    base_currency: str = "USD"
    """The portfolio's and strategies' currency for exposure and P&L limits."""
    currency_equivalents: dict[str, str] = {"USDT": "USD", "USDC": "USD"}
    """Currencies valued at 1:1 (a stablecoin and its dollar)."""
    trading_day_start: time = time(17, 0)
    trading_day_timezone: str = "America/New_York"
    """The daily loss limit resets here (17:00 New York, the FX day, by default)."""

    def scoped(self) -> dict[str, Limits]:
        tables: dict[str, dict[str, Any]] = {"portfolio": self.portfolio} if self.portfolio else {}
        for kind, entries in (
            ("account", self.accounts),
            ("strategy", self.strategies),
            ("venue", self.venues),
        ):
            tables.update({f"{kind}:{name}": table for name, table in entries.items()})
        return {scope: msgspec.convert(table, Limits) for scope, table in tables.items()}


class KillSwitchSettings(BaseModel):
    """When the kill switch engages by itself, and what it does then. A person re-arms it."""

    model_config = _FROZEN
    on_daily_loss: Literal["halt", "reduce", "flatten"] = "halt"
    """At a scope whose daily loss limit is reached."""
    venue_down_seconds: float | None = Field(default=30.0, gt=0)
    """Halt a venue disconnected for longer than this."""
    reject_rate: float | None = Field(default=0.5, gt=0, le=1)
    """Halt everything when this share of the last `reject_window` venue answers are rejections."""
    reject_window: int = Field(default=20, ge=1)
    stale_quote_seconds: float | None = Field(default=None, gt=0)
    """Halt a venue whose quotes for instruments with positions or orders are older than this."""
    cancel_working: bool = True
    """Cancel the scope's working orders when the switch engages."""


class SizingSettings(BaseModel):
    model_config = _FROZEN
    off_grid_prices: Literal["round", "reject"] = "round"
    """round: limit prices move to the tick in the direction that never worsens them; reject: an
    off-grid price is an input error (422)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRADEWIRE_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("var")
    api_token: SecretStr | None = None
    """Bearer token for the API; generated into `<data_dir>/api-token` on first start when unset."""
    api: ApiSettings = ApiSettings()
    journal: JournalSettings = JournalSettings()
    paper: PaperSettings = PaperSettings()
    extra_paper_venues: tuple[PaperSettings, ...] = ()
    """More simulated venues (each with its own `venue` name), e.g. to try routing between venues."""
    ccxt_venues: tuple[CcxtVenueConfig, ...] = ()
    """Crypto exchange accounts through ccxt (binance, bybit, okx, kraken, coinbase); docs/venues/ccxt.md."""
    routing: RoutingSettings = RoutingSettings()
    accounts: tuple[AccountSettings, ...] = (AccountSettings(id="paper-1"),)
    strategies: tuple[StrategySettings, ...] = ()
    allocations: dict[str, AllocationSettings] = {}
    """Per strategy ID."""
    risk: RiskSettings = RiskSettings()
    kill_switch: KillSwitchSettings = KillSwitchSettings()
    sizing: SizingSettings = SizingSettings()
    reconciliation: ReconciliationSettings = ReconciliationSettings()
    connectivity: ConnectivitySettings = ConnectivitySettings()
    sessions: SessionSettings = SessionSettings()
    reconcile_interval: float | None = Field(default=60.0, gt=0)
    """Seconds between reconciliations of every connected venue (also at start-up and after each
    reconnect); unset to turn the periodic one off."""
    venue_timeout: float = Field(default=5.0, gt=0)
    """Seconds to wait for a venue call before its outcome is treated as unknown."""
    venue_requests: VenueRequestSettings = VenueRequestSettings()
    """Retries while a venue is busy, and rate budgets (docs/configuration.md)."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    crash_at: str | None = None
    """For crash tests only: `<probe>:<n>` kills the process with SIGKILL at the n-th pass of a probe."""

    @property
    def journal_path(self) -> Path:
        return self.journal.path or self.data_dir / FILE_NAMES[self.journal.backend]

    @property
    def paper_path(self) -> Path:
        """The paper broker's own state. It outlives the engine like a real broker's would."""
        return self.paper.path or self.data_dir / "paper-venue.sqlite"

    @property
    def token_path(self) -> Path:
        return self.data_dir / "api-token"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from flags (`overrides`), the environment, a TOML file and the defaults."""
    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"config file {config_file} does not exist")

    class _Loaded(Settings):
        model_config = SettingsConfigDict(**{**Settings.model_config, "title": "tradewire settings"})

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources = [init_settings, env_settings]
            if config_file is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
            return (*sources, file_secret_settings)

    return _Loaded(**{k: v for k, v in overrides.items() if v is not None})

"""One typed, frozen settings tree. Unknown keys are rejected; secrets are `SecretStr`.

Precedence, highest first: command-line flags, environment (`TRADEWIRE_...`, nested with `__`,
e.g. `TRADEWIRE_API__PORT=9000`), the TOML config file, then these defaults. Components never read
the environment themselves; they get their part of this tree.
"""

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tradewire.venues.paper.config import PaperVenueConfig

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class ApiSettings(BaseModel):
    model_config = _FROZEN
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class JournalSettings(BaseModel):
    model_config = _FROZEN
    path: Path | None = None
    """Default: `<data_dir>/journal.sqlite`."""
    durability: Literal["fsync", "os"] = "fsync"
    """fsync: every group commit is fsynced (survives power loss). os: committed to the OS only
    (survives a killed process, not a power cut); faster."""


class PaperSettings(PaperVenueConfig):
    """The built-in paper venue (see `tradewire.venues.paper.config`), on by default."""

    enabled: bool = True


class AccountSettings(BaseModel):
    model_config = _FROZEN
    id: str
    venue: str = "paper"
    currency: str = "USD"


class StrategySettings(BaseModel):
    model_config = _FROZEN
    id: str
    account: str | None = None
    """Default account for this strategy's signals that name none."""


class RiskSettings(BaseModel):
    model_config = _FROZEN
    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_position_quantity: Decimal | None = None
    max_open_orders: int | None = Field(default=None, ge=0)


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
    accounts: tuple[AccountSettings, ...] = (AccountSettings(id="paper-1"),)
    strategies: tuple[StrategySettings, ...] = ()
    risk: RiskSettings = RiskSettings()
    sizing: SizingSettings = SizingSettings()
    venue_timeout: float = Field(default=5.0, gt=0)
    """Seconds to wait for a venue call before its outcome is treated as unknown."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    crash_at: str | None = None
    """For crash tests only: `<probe>:<n>` kills the process with SIGKILL at the n-th pass of a probe."""

    @property
    def journal_path(self) -> Path:
        return self.journal.path or self.data_dir / "journal.sqlite"

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

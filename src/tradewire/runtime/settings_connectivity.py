"""How the engine keeps its venue connections: reconnect backoff, failover, health thresholds.

Part of the settings tree (`Settings.connectivity`, TOML table `[connectivity]`); see
docs/configuration.md and the "Connectivity" section of docs/recovery.md.
"""

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ConnectivitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backoff_base: float = Field(default=0.5, gt=0)
    """Seconds: the ceiling of the wait before the first reconnect attempt; it doubles per attempt."""
    backoff_cap: float = Field(default=30.0, gt=0)
    """Seconds: the ceiling never grows past this."""
    jitter: bool = True
    """Full jitter: wait a uniformly random share of the ceiling, so engines that lost the same venue
    do not reconnect in lockstep. Off: wait the ceiling itself."""
    jitter_seed: int | None = None
    """Seeds the jitter's random draws (reproducible runs); unset draws from the OS."""
    max_attempts: int = Field(default=5, ge=1)
    """Failed reconnect attempts on one connection before switching to the next (a backup, then
    round to the primary again). A venue without a backup keeps trying at the capped delay."""
    degraded_after_timeouts: int = Field(default=3, ge=1)
    """Venue requests timing out this many times in a row mark a connected venue degraded."""
    backup_connections: dict[str, tuple[str, ...]] = {}
    """Venue name -> names of its backup connections, tried in order after the primary. What a name
    stands for is the adapter's business; a paper venue's backup is a second session to the same
    venue file (the same accounts), which needs the venue's `path` on disk (the default)."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.backoff_cap < self.backoff_base:
            raise ValueError(
                f"backoff_cap ({self.backoff_cap}) must be at least backoff_base ({self.backoff_base})"
            )
        for venue, names in self.backup_connections.items():
            if "primary" in names or len(set(names)) != len(names) or not all(names):
                raise ValueError(
                    f"backup_connections.{venue}: names must be non-empty, distinct and not 'primary' "
                    f"(got {list(names)})"
                )
        return self

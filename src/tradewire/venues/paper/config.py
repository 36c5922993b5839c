"""The paper venue's settings: one frozen typed model, unknown keys rejected.

It is meant to sit inside the engine's settings tree; nothing here reads the environment.
"""

from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradewire.domain.enums import OrderType, TimeInForce
from tradewire.venues.paper.catalog import DEFAULT_INSTRUMENTS, ExactDecimal, SimulatedInstrument


class DisconnectWindow(BaseModel):
    """A scheduled outage: the connection drops at feed step `at_step` for `steps` steps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at_step: int = Field(ge=1)
    steps: int = Field(ge=1)


class PaperVenueConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: str = "paper"
    path: Path | None = None
    """The venue's own SQLite file; None keeps its state in memory (lost when the process ends)."""
    seed: int = 0
    """Seeds the random walk and the simulated rejects: the same seed gives the same run."""
    tick_interval: ExactDecimal | None = Field(default=Decimal("0.25"), gt=0)
    """Seconds between feed steps in live mode; None is manual mode (call `step()` yourself)."""
    depth_levels: int = Field(default=5, ge=1)
    quotes_csv: Path | None = None
    """Replay quotes from this CSV (ts,instrument,bid,ask,bid_size,ask_size) instead of the walk."""
    day_close_utc: time = time(21, 0)
    """DAY orders expire at the first such time (UTC) after they were accepted."""
    instruments: tuple[SimulatedInstrument, ...] = DEFAULT_INSTRUMENTS
    """Replaces the default catalog."""
    extra_instruments: tuple[SimulatedInstrument, ...] = ()
    """Added to `instruments`."""
    order_types: frozenset[OrderType] = frozenset(OrderType)
    time_in_force: frozenset[TimeInForce] = frozenset(TimeInForce)
    max_client_order_id_length: int = Field(default=64, ge=1)
    latency_ms: int = Field(default=0, ge=0)
    """Delay before each report is delivered; the order of reports is preserved."""
    reject_probability: ExactDecimal = Field(default=Decimal(0), ge=0, le=1)
    """Chance that a valid order is rejected with reason "simulated reject" (seeded)."""
    disconnects: tuple[DisconnectWindow, ...] = ()
    busy_probability: ExactDecimal = Field(default=Decimal(0), ge=0, le=1)
    """Chance that a request (submit, cancel, amend) is refused as busy, `VenueBusy`, before the
    venue acts on it (seeded): a rate-limited or overloaded venue. Tests can also script refusals
    with `PaperVenue.simulate_busy` / `fail_next_requests`."""
    sessions: bool = False
    """List each instrument with its real session calendar (XNYS for AAPL, fx-24x5, CMES, ...), so the
    engine applies its sessions, and expire DAY orders at that calendar's close. Off (the default):
    the simulator trades around the clock, lists every instrument as "24/7", and DAY orders expire
    at `day_close_utc`."""

    @model_validator(mode="after")
    def _check_unique_instruments(self) -> Self:
        seen: set[str] = set()
        for simulated in self.all_instruments:
            if simulated.instrument_id in seen:
                raise ValueError(f"instrument {simulated.instrument_id} is listed twice")
            seen.add(simulated.instrument_id)
        return self

    @property
    def all_instruments(self) -> tuple[SimulatedInstrument, ...]:
        return self.instruments + self.extra_instruments

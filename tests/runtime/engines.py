"""Factories for an in-process engine on the paper venue in manual mode (the feed moves on `step`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tradewire.domain.ids import VenueId
from tradewire.runtime.node import Engine
from tradewire.runtime.settings import Settings
from tradewire.venues.paper.client import PaperVenue


def engine_settings(data_dir: Path, **overrides: Any) -> Settings:
    paper = {"tick_interval": None, "seed": 11, **overrides.pop("paper", {})}
    return Settings(data_dir=data_dir, paper=paper, **overrides)


def paper_of(engine: Engine) -> PaperVenue:
    venue = engine.manager.venues[VenueId("paper")]
    assert isinstance(venue, PaperVenue)
    return venue


@asynccontextmanager
async def running_engine(data_dir: Path, **overrides: Any) -> AsyncIterator[Engine]:
    async with Engine(engine_settings(data_dir, **overrides)) as engine:
        await paper_of(engine).step()
        yield engine

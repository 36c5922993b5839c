"""The journal backends by name, as `journal.backend` in the settings names them."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final, Literal

from tradewire.journal.group_commit import Journal
from tradewire.journal.log import log_journal
from tradewire.journal.sqlite import sqlite_journal
from tradewire.journal.store import Durability

Backend = Literal["sqlite", "log"]

OPENERS: Final[Mapping[Backend, Callable[[Path, Durability], Journal]]] = {
    "sqlite": sqlite_journal,
    "log": log_journal,
}
FILE_NAMES: Final[Mapping[Backend, str]] = {"sqlite": "journal.sqlite", "log": "journal.log"}
"""The journal's file in the data directory when `journal.path` is not set."""


def open_journal(backend: Backend, path: Path, durability: Durability) -> Journal:
    return OPENERS[backend](path, durability)

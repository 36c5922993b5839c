"""Exceptions grouped by how they are handled. Domain outcomes (denials, rejections) are events."""

from dataclasses import dataclass


class TradewireError(Exception):
    """Base for every error Tradewire raises on purpose."""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with an input: where, what, and what would have been accepted."""

    field: str
    problem: str
    accepted: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem} (accepted: {self.accepted})"


class InvalidInput(TradewireError):
    """Input was malformed; nothing was changed. Carries every problem found, not just the first."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class NotFound(TradewireError):
    def __init__(self, what: str, key: str) -> None:
        self.what = what
        self.key = key
        super().__init__(f"no {what} {key!r}")


class Conflict(TradewireError):
    """The request is well formed but the current state does not allow it (cancel a filled order)."""


class VenueError(TradewireError):
    """Venue I/O failed; the outcome of the request may be unknown."""


class VenueUnavailable(VenueError):
    """The venue cannot be reached now (disconnected); retry later or reconcile."""

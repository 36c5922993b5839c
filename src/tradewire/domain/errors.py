"""Exceptions grouped by how they are handled. Domain outcomes (denials, rejections) are events."""

from dataclasses import dataclass
from enum import StrEnum


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
    """The venue certainly did not act on the request: it could not be reached (disconnected), or
    one of the more specific refusals below. Safe to settle as "not sent"; never an unknown outcome."""


# --- venue refusals, grouped by how they are handled. Adapters translate their venue's errors into
# these at the boundary (`raise VenueBusy(...) from error`); each guarantees the venue did not act.


class VenueBusy(VenueUnavailable):
    """Temporary: rate limited or overloaded (HTTP 429, a 503 the venue documents as "not
    processed"). The order manager retries it with backoff, a bounded number of times."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        """Seconds the venue asked us to wait, when it said."""
        super().__init__(message)


class RefusalCode(StrEnum):
    """Why a venue refused a request for good; adapters may use codes of their own besides these."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    INVALID_ORDER = "invalid_order"
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    ORDER_NOT_FOUND = "order_not_found"
    NOT_PERMITTED = "not_permitted"


class VenueRefused(VenueUnavailable):
    """Rejected: the venue refused this request and would refuse it again (insufficient funds, an
    invalid order). Never retried; the order is rejected with `reason` ("<code>: <message>")."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)

    @property
    def reason(self) -> str:
        return f"{self.code}: {self}"


class VenueAuthFailed(VenueUnavailable):
    """Needs a human: the venue refused our credentials (revoked or expired key, clock skew, missing
    permission). Nothing will work until someone fixes it, so the order manager halts the venue's
    scope with the kill switch (latched) and the request is settled as not sent."""

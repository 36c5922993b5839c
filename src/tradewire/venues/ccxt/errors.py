"""ccxt errors raised again as the domain's, by how they are handled (see `mapping.ERROR_HANDLING`)."""

from typing import NoReturn

from ccxt.base import errors as ccxt_errors

from tradewire.domain.errors import RefusalCode, VenueAuthFailed, VenueBusy, VenueError, VenueRefused
from tradewire.venues.ccxt.mapping import ErrorHandling


class OrderUnknown(VenueError):
    """The exchange does not know the order (queries turn it into "none")."""


def raise_translated(error: BaseException, handling: ErrorHandling, message: str) -> NoReturn:
    """Raise the domain's error for a failed request. `message` must already be redacted; the ccxt
    error is not chained because its text may quote the request."""
    if handling is ErrorHandling.AUTH_FAILED:
        raise VenueAuthFailed(message) from None
    if handling is ErrorHandling.RETRY_LATER:
        raise VenueBusy(message) from None
    if handling is ErrorHandling.NOT_FOUND:
        raise OrderUnknown(message) from None
    if handling is ErrorHandling.REJECTED:
        funds = isinstance(error, ccxt_errors.InsufficientFunds)
        raise VenueRefused(
            RefusalCode.INSUFFICIENT_FUNDS if funds else RefusalCode.INVALID_ORDER, message
        ) from None
    if isinstance(error, ccxt_errors.RequestTimeout):
        raise TimeoutError(message) from None
    # Unknown outcome: the engine's "may or may not have happened" path (OSError).
    raise ConnectionError(message) from None

"""Leverage of perpetual swaps: checked against the markets when the venue is built, set at each connect.

Leverage is account state at the exchange, not part of an order, so the venue sets every configured
leverage with ccxt's unified `set_leverage` before it reports itself connected, and again at every
later `connect` (a reconnect or a new session: someone may have changed it at the exchange meanwhile).
An exchange that answers "not modified" to an unchanged leverage (its `ExchangeProfile.leverage_unchanged`
code) has succeeded.

When it fails:
- the exchange could not be asked (timeout, rate limit, maintenance, dropped connection): `connect`
  raises, the venue stays disconnected and the engine retries with its backoff;
- the exchange read the request and refused it (above the risk limit, say): an error is logged, the
  venue connects, and orders for that symbol that are not reduce-only are refused with the reason
  until a later `connect` sets it. Reduce-only orders still go out: they cannot add exposure, and
  flattening must work whatever the leverage.
"""

import json
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from ccxt.base import errors as ccxt_errors

from tradewire.domain.enums import AssetClass
from tradewire.domain.ids import VenueId
from tradewire.domain.instruments import Instrument
from tradewire.venues.ccxt import mapping
from tradewire.venues.ccxt.exchanges import ErrorCode, ExchangeProfile
from tradewire.venues.ccxt.mapping import ErrorHandling

logger = logging.getLogger(__name__)


def check_leverage(
    leverage: Mapping[str, Decimal],
    instruments: Mapping[str, Instrument],
    markets: Mapping[str, Any],
    *,
    venue: VenueId,
) -> None:
    """Refuse (ValueError) leverage for a symbol that is not a perpetual in the markets, or outside the
    market's declared leverage limits."""
    perpetuals = sorted(s for s, i in instruments.items() if i.asset_class is AssetClass.CRYPTO_PERPETUAL)
    accepted = f"accepted: the perpetuals in `symbols`: {', '.join(perpetuals) or 'none configured'}"
    for symbol, wanted in leverage.items():
        instrument = instruments.get(symbol)
        if instrument is None:
            raise ValueError(f"{venue}: leverage is given for {symbol}, which is not traded ({accepted})")
        if instrument.asset_class is not AssetClass.CRYPTO_PERPETUAL:
            raise ValueError(
                f"{venue}: leverage is given for {symbol}, a {instrument.asset_class.replace('_', ' ')} "
                f"market; spot is traded without leverage ({accepted})"
            )
        low, high = _limits(markets.get(symbol))
        if (low is not None and wanted < low) or (high is not None and wanted > high):
            lowest, highest = low if low is not None else "above 0", high if high is not None else "any"
            raise ValueError(
                f"{venue}: leverage {wanted} for {symbol} is outside the market's limits "
                f"(accepted: {lowest} to {highest})"
            )


def _limits(market: Any) -> tuple[Decimal | None, Decimal | None]:
    limits = market.get("limits", {}).get("leverage") if isinstance(market, Mapping) else None
    if not isinstance(limits, Mapping):
        return None, None
    return _decimal(limits.get("min")), _decimal(limits.get("max"))


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number > 0 else None


def error_code(error: BaseException, code: ErrorCode) -> bool:
    """Whether a ccxt error carries the exchange's `code` in the JSON body its message quotes."""
    message = str(error)
    start = message.find("{")
    if start < 0:
        return False
    try:
        body, _ = json.JSONDecoder().raw_decode(message, start)
    except ValueError:
        return False
    return isinstance(body, dict) and str(body.get(code.field)) == code.value


class Leverage:
    """The configured leverage per perpetual symbol, and which of them the exchange refused."""

    def __init__(
        self,
        wanted: Mapping[str, Decimal],
        profile: ExchangeProfile,
        *,
        venue: VenueId,
        describe: Callable[[BaseException], str],
        fail: Callable[[BaseException, ErrorHandling, str], NoReturn],
    ) -> None:
        self._wanted = dict(wanted)
        self._profile = profile
        self._venue = venue
        self._describe = describe
        self._fail = fail
        self.refused: dict[str, str] = {}
        """Symbol -> why the exchange refused its leverage at the last connect."""

    async def apply(self, exchange: Any) -> None:
        """Set every configured leverage; raises when the exchange could not be asked (see module)."""
        for symbol, wanted in self._wanted.items():
            try:
                await exchange.set_leverage(mapping.as_float(wanted), symbol)
            except ccxt_errors.BaseError as error:
                unchanged = self._profile.leverage_unchanged
                if unchanged is not None and error_code(error, unchanged):
                    self.refused.pop(symbol, None)
                    continue
                handling = mapping.error_handling(error)
                if handling is not ErrorHandling.REJECTED:
                    self._fail(error, handling, f"set leverage {wanted} for {symbol}")
                reason = f"the exchange refused leverage {wanted} for {symbol}: {self._describe(error)}"
                logger.error("%s: %s; its orders are refused except reduce-only ones", self._venue, reason)
                self.refused[symbol] = reason
            else:
                self.refused.pop(symbol, None)
                logger.info("%s: leverage of %s set to %s", self._venue, symbol, wanted)

    def refusal(self, symbol: str, *, reduce_only: bool) -> str | None:
        """Why an order for `symbol` must not be sent, or None."""
        reason = self.refused.get(symbol)
        if reason is None or reduce_only:
            return None
        return f"not sent: {reason} (only reduce-only orders until it is set at a reconnect)"

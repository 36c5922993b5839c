"""The risk gate: every order passes it before it is journaled as pending-new and sent."""

from decimal import Decimal

from tradewire.domain.denials import Denial
from tradewire.domain.enums import TradingState
from tradewire.domain.events import OrderSpec
from tradewire.domain.instruments import Instrument
from tradewire.risk.checks import (
    Exposure,
    RiskLimits,
    check_open_orders,
    check_order_size,
    check_position,
    check_reduce_only,
    check_trading_state,
)


class RiskGate:
    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits

    def check(
        self,
        spec: OrderSpec,
        instrument: Instrument,
        exposure: Exposure,
        reference: Decimal | None,
        state: TradingState,
    ) -> Denial | None:
        """The first denial among all checks, or None when the order may go."""
        return (
            check_trading_state(state, spec, exposure)
            or check_reduce_only(spec, exposure)
            or check_order_size(spec, instrument, reference, self.limits)
            or check_position(spec, exposure, self.limits)
            or check_open_orders(spec, exposure, self.limits)
        )

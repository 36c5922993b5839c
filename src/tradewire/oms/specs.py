"""Building order specs: the reference a venue needs to find an order, and an amended order."""

from decimal import Decimal

from tradewire.domain.errors import FieldProblem, InvalidInput
from tradewire.domain.events import OrderSpec
from tradewire.domain.instruments import Instrument
from tradewire.domain.orders import Order
from tradewire.venues.port import OrderRef


def order_ref(order: Order) -> OrderRef:
    return OrderRef(
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id,
        account=order.account,
        instrument=order.instrument,
    )


def amended_spec(
    order: Order,
    instrument: Instrument,
    quantity: Decimal | None,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
) -> OrderSpec:
    """The order as it would stand after the amend, checked against the instrument's grid."""
    new_quantity = order.quantity if quantity is None else quantity
    problems = []
    if not instrument.is_on_lot(new_quantity) or new_quantity <= order.filled_quantity:
        problems.append(
            FieldProblem(
                "quantity",
                f"{new_quantity} is not a multiple of the lot {instrument.lot_size} "
                f"above the filled {order.filled_quantity}",
                f"a multiple of {instrument.lot_size} greater than {order.filled_quantity}",
            )
        )
    for name, price in (("limit_price", limit_price), ("stop_price", stop_price)):
        if price is not None and (price <= 0 or not instrument.is_on_tick(price)):
            problems.append(
                FieldProblem(
                    name,
                    f"{price} is not on the tick {instrument.tick_size}",
                    "a positive multiple of the tick",
                )
            )
    if limit_price is not None and order.limit_price is None:
        problems.append(
            FieldProblem("limit_price", f"a {order.order_type} order has no limit price", "omit it")
        )
    if stop_price is not None and order.stop_price is None:
        problems.append(
            FieldProblem("stop_price", f"a {order.order_type} order has no stop price", "omit it")
        )
    if problems:
        raise InvalidInput(problems)
    return OrderSpec(
        client_order_id=order.client_order_id,
        account=order.account,
        strategy=order.strategy,
        instrument=order.instrument,
        venue=order.venue,
        side=order.side,
        order_type=order.order_type,
        quantity=new_quantity,
        time_in_force=order.time_in_force,
        limit_price=order.limit_price if limit_price is None else limit_price,
        stop_price=order.stop_price if stop_price is None else stop_price,
        signal_id=order.signal_id,
        signal_price=order.signal_price,
        reduce_only=order.reduce_only,
        route=order.route,
    )

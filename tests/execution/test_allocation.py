"""Fan-out across accounts: deterministic, whole lots, adding up to the signal's size."""

import asyncio
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import EURUSD
from tests.runtime.engines import running_engine
from tradewire.domain.denials import Denial
from tradewire.domain.enums import OrderStatus, SignalOutcome
from tradewire.domain.ids import AccountId
from tradewire.domain.signals import parse_signal
from tradewire.execution.allocation import Allocation, allocate, split_lots

A, B, C = AccountId("acc-a"), AccountId("acc-b"), AccountId("acc-c")


def test_leftover_lots_go_to_the_largest_fractional_shares_then_by_account() -> None:
    assert split_lots(Decimal("10"), Decimal("1"), {A: Decimal(2), B: Decimal(1)}) == {
        A: Decimal(7),
        B: Decimal(3),
    }
    assert split_lots(Decimal("10"), Decimal("1"), {A: Decimal(1), B: Decimal(1), C: Decimal(1)}) == {
        A: Decimal(4),
        B: Decimal(3),
        C: Decimal(3),
    }


def test_a_size_below_one_lot_per_account_leaves_some_accounts_without_an_order() -> None:
    signal = parse_signal({"strategy": "s", "instrument": "EURUSD", "side": "buy", "quantity": "1000"})
    children = allocate(
        signal, Allocation(method="weights", accounts={A: Decimal(1), B: Decimal(1)}), EURUSD, None
    )
    assert not isinstance(children, Denial)
    assert [(account, child.quantity) for account, child in children] == [(A, Decimal(1000))]


def test_a_target_position_is_split_as_a_target_with_its_sign() -> None:
    signal = parse_signal({"strategy": "s", "instrument": "EURUSD", "target_position": "-3000"})
    children = allocate(
        signal, Allocation(method="weights", accounts={A: Decimal(2), B: Decimal(1)}), EURUSD, None
    )
    assert not isinstance(children, Denial)
    assert [(a, c.target_position) for a, c in children] == [(A, Decimal(-2000)), (B, Decimal(-1000))]


def test_fixed_allocation_trades_each_accounts_quantity_in_the_signals_direction() -> None:
    signal = parse_signal({"strategy": "s", "instrument": "EURUSD", "side": "sell", "quantity": "1"})
    rule = Allocation(method="fixed", accounts={A: Decimal(5000), B: Decimal(2000)})
    children = allocate(signal, rule, EURUSD, None)
    assert not isinstance(children, Denial)
    assert [(a, c.side, c.quantity) for a, c in children] == [
        (A, "sell", Decimal(5000)),
        (B, "sell", Decimal(2000)),
    ]


def test_a_notional_without_any_price_cannot_be_split() -> None:
    signal = parse_signal({"strategy": "s", "instrument": "EURUSD", "side": "buy", "notional": "5000"})
    denial = allocate(signal, Allocation(method="weights", accounts={A: Decimal(1)}), EURUSD, None)
    assert isinstance(denial, Denial)
    assert denial.code == "no_reference_price"


@settings(max_examples=300, deadline=None)
@given(
    lots=st.integers(min_value=0, max_value=100_000),
    weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=6),
)
def test_children_add_up_to_the_whole_lots_and_stay_within_one_lot_of_their_share(
    lots: int, weights: list[int]
) -> None:
    lot = Decimal("0.001")
    accounts = {AccountId(f"acc-{i}"): Decimal(w) for i, w in enumerate(weights)}
    split = split_lots(Decimal(lots) * lot + lot / 2, lot, accounts)  # half a lot more rounds away
    assert sum(split.values()) == Decimal(lots) * lot
    total_weight = sum(accounts.values())
    for account, quantity in split.items():
        share = Decimal(lots) * lot * accounts[account] / total_weight
        assert abs(quantity - share) < lot
        assert quantity % lot == 0
    assert split == split_lots(Decimal(lots) * lot, lot, dict(reversed(list(accounts.items()))))


async def test_a_fanned_out_signal_checks_each_child_against_its_own_account(tmp_path: Path) -> None:
    overrides = {
        "accounts": [{"id": "paper-1"}, {"id": "paper-2"}],
        "allocations": {"trend": {"method": "weights", "accounts": {"paper-1": "2", "paper-2": "1"}}},
        "risk": {"accounts": {"paper-2": {"max_order_quantity": "2"}}},
    }
    async with running_engine(tmp_path, **overrides) as engine:
        result = await engine.service.submit_signal(
            {"strategy": "trend", "instrument": "AAPL", "side": "buy", "quantity": "10"}
        )
        for _ in range(5):
            await asyncio.sleep(0)
        assert result.outcome is SignalOutcome.ACCEPTED
        orders = {o.account: o for o in map(engine.service.order, result.client_order_ids)}
        assert (orders["paper-1"].quantity, orders["paper-1"].status) == (Decimal(7), OrderStatus.FILLED)
        assert (orders["paper-2"].quantity, orders["paper-2"].status) == (Decimal(3), OrderStatus.DENIED)
        assert orders["paper-1"].route == "weights allocation of strategy trend; AAPL at paper"
        assert result.reason_code == "order_quantity_limit"
        assert result.reason is not None and result.reason.startswith(
            "account paper-2: order quantity 3 > limit 2"
        )
        naming_one = await engine.service.submit_signal(
            {"strategy": "trend", "instrument": "AAPL", "side": "buy", "quantity": "1", "account": "paper-2"}
        )
        assert [engine.service.order(i).account for i in naming_one.client_order_ids] == ["paper-2"]

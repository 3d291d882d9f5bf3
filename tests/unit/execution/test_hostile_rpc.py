"""Many orders through every step against the simulator's chain behind a hostile RPC
(lost answers, 429/503, lagging and stale nodes), with stray redeliveries and sweeps:
the chain itself is the witness that no swap executed twice, none executed under an
order reported failed, and none can still land once its order is final."""

from __future__ import annotations

import dataclasses
import random
import uuid

import pytest

from commands.order_steps import load_orders
from commands.resend_transaction import resend_transaction
from commands.route_and_send import route_and_send
from commands.step_context import ExecutionPolicy
from commands.submit_order import submit_order
from db.inflight import Watched
from domain.commands import SubmitOrder
from domain.events import decode_event
from domain.order_state import OrderState
from domain.status import OrderStatus
from domain.streams import order_stream
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from tests.support.in_process_chain import in_process_context
from tests.unit.execution.hostile_rpc import HostileRpc
from tests.unit.execution.test_never_twice import deliver
from workers.process_manager.confirmation_watcher import ConfirmationWatcher

ORDERS = [
    ("SOL", "USDC", 3 * 10**9, 50),
    ("USDC", "SOL", 450 * 10**6, 50),
    ("JUP", "USDC", 10**8, 0),  # no slippage room: some attempts fail on chain and retry
]
MAX_ROUNDS = 3_000
STRAY = 0.3  # chance per round that an order's current step is delivered once more


class Run:
    def __init__(self, seed: int, orders: int) -> None:
        self.simulator = Simulator(SimulatorConfig(seed=seed))
        ctx, _ = in_process_context(self.simulator, ExecutionPolicy(max_attempts=3))
        self.ctx = dataclasses.replace(ctx, rpc=HostileRpc(ctx.rpc, seed))
        self.random = random.Random(seed)
        self.order_ids = [
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"hostile/{seed}/{n}")) for n in range(orders)
        ]
        self.watcher = ConfirmationWatcher(self.ctx, self.watched, interval_s=0, resend_every_s=0)
        self.states: dict[str, OrderState] = {}

    async def watched(self) -> list[Watched]:
        return [
            Watched(order_id, state.attempts, state.signature)
            for order_id, state in self.states.items()
            if state.status == OrderStatus.SUBMITTED and state.signature is not None
        ]

    async def submit(self) -> None:
        for number, order_id in enumerate(self.order_ids):
            token_in, token_out, amount_in, slippage_bps = ORDERS[number % len(ORDERS)]
            command = SubmitOrder(
                order_id=order_id,
                order_type="market",
                token_in=token_in,
                token_out=token_out,
                amount_in=amount_in,
                slippage_bps=slippage_bps,
            )
            await submit_order(self.ctx.store, command, f"hostile-{number}")

    async def round(self) -> bool:
        """One round of every order's next step (and strays); False when all are final."""
        self.states = await load_orders(self.ctx.store, self.order_ids)
        open_orders = [state for state in self.states.values() if not state.is_final]
        for state in open_orders:
            await self._step(state)
        await deliver(self.watcher.watch_once())
        self.states = await load_orders(self.ctx.store, self.order_ids)
        return bool(open_orders)

    async def _step(self, state: OrderState) -> None:
        order_id, attempt = state.order_id, state.attempts
        if state.status in (OrderStatus.PENDING, OrderStatus.RETRYING):
            await deliver(route_and_send(self.ctx, [(order_id, attempt + 1)]))
        elif state.status == OrderStatus.BUILDING:
            await deliver(resend_transaction(self.ctx, order_id, attempt))
        if self.random.random() < STRAY:  # a redelivery or a sweep of the current step
            await deliver(route_and_send(self.ctx, [(order_id, max(attempt, 1))]))
            await deliver(resend_transaction(self.ctx, order_id, attempt))

    async def signatures(self) -> dict[str, list[str]]:
        signed: dict[str, list[str]] = {}
        for order_id in self.order_ids:
            for recorded in await self.ctx.store.read_stream(order_stream(order_id)):
                event = decode_event(recorded.event_type, recorded.data)
                signature = getattr(event, "signature", None)
                if recorded.event_type == "TransactionSigned" and signature:
                    signed.setdefault(order_id, []).append(signature)
        return signed

    def executed(self, signature: str) -> bool:
        return self.simulator.ledger.fate(signature) == "executed"

    def may_land(self, signature: str) -> bool:
        return self.simulator.ledger.fate(signature) == "waiting"


async def wrong_orders(run: Run) -> list[str]:
    wrong = []
    for order_id, signatures in (await run.signatures()).items():
        state = run.states[order_id]
        executed = [s for s in signatures if run.executed(s)]
        waiting = [s for s in signatures if run.may_land(s)]
        confirmed = [state.signature] if state.status == OrderStatus.CONFIRMED else []
        if executed != confirmed or waiting:
            wrong.append(f"{order_id} {state.status}: executed {executed}, may land {waiting}")
    return wrong


@pytest.mark.parametrize("seed", [1, 2])
async def test_no_swap_executes_twice_behind_a_hostile_rpc(seed: int) -> None:
    run = Run(seed, orders=30)
    await run.submit()
    for _ in range(MAX_ROUNDS):
        if not await run.round():
            break
    else:
        raise AssertionError("orders not final")
    run.simulator.advance_slots(200)  # whatever could still land has landed or expired
    assert await wrong_orders(run) == []
    statuses = [state.status for state in run.states.values()]
    assert statuses.count(OrderStatus.CONFIRMED) > len(statuses) // 2, statuses

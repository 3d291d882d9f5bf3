"""The route step: quote every pool, let the domain choose, sign, then send.

Quotes, route and signature go into one append, so the signature and its last valid
block height are recorded before the transaction leaves (DESIGN.md), and an order
costs one message and one reload instead of two. Orders admitted together are routed
together: one read for their states and one blockhash for all of them.
"""

from __future__ import annotations

import asyncio
import logging

from commands.order_steps import command_id, decide_all, record
from domain.commands import FailAttempt, OrderCommand, SelectRoute, StartRouting
from domain.errors import InvalidTransition
from domain.order_state import OrderState
from domain.routing import NoRoute
from domain.status import OrderStatus
from domain.tokens import token_by_symbol
from workers.context import StepContext
from workers.execute_step import execute_order, send_and_mark, sign_command
from workers.planner import plan_route
from workers.wire import Blockhash

log = logging.getLogger("workers.route")


async def route_order(ctx: StepContext, order_id: str, attempt: int) -> None:
    """Start attempt `attempt`, select its route, sign and send; a no-op when done."""
    await route_orders(ctx, [(order_id, attempt)])


async def route_orders(ctx: StepContext, orders: list[tuple[str, int]]) -> None:
    """`route_order` for each (order_id, attempt) at once; raises the first error after
    all are done, so the broker retries the batch (the steps done are then no-ops)."""
    states, latest = await asyncio.gather(
        ctx.load_orders([order_id for order_id, _ in orders]), ctx.venue.latest_blockhash()
    )
    results = await asyncio.gather(
        *(
            _route(ctx, order_id, attempt, states.get(order_id), latest)
            for order_id, attempt in orders
        ),
        return_exceptions=True,
    )
    errors = [result for result in results if isinstance(result, BaseException)]
    if errors:
        raise errors[0]


async def _route(
    ctx: StepContext, order_id: str, attempt: int, state: OrderState | None, latest: Blockhash
) -> None:
    if state is not None and state.status == OrderStatus.BUILDING and state.attempts == attempt:
        # Redelivered after the route was recorded (the send failed): finish the send.
        await execute_order(ctx, order_id, attempt)
        return
    if state is None or not _routable(state, attempt):
        log.info("route: nothing to do", extra={"order_id": order_id, "attempt": attempt})
        return
    commands = await _route_commands(ctx, state, attempt, latest)
    try:
        events = decide_all(state, commands)
    except InvalidTransition as error:
        log.warning("route: refused", extra={"order_id": order_id, "error": str(error)})
        return
    routed = await record(ctx.store, state, events, command_id("route", order_id, attempt))
    if routed is not None and routed.status == OrderStatus.BUILDING:
        await send_and_mark(ctx, routed, attempt)


async def _route_commands(
    ctx: StepContext, state: OrderState, attempt: int, latest: Blockhash
) -> list[OrderCommand]:
    commands: list[OrderCommand] = [StartRouting(attempt=attempt)]
    try:
        plan = await plan_route(
            ctx.venue,
            token_by_symbol(state.token_in),
            token_by_symbol(state.token_out),
            state.amount_in,
            state.slippage_bps,
            ctx.policy.ladder_steps,
        )
    except NoRoute as error:
        # Not worth a retry: more attempts see the same pools.
        return [*commands, _no_route(ctx, attempt, error.reason)]
    route = SelectRoute(
        attempt=attempt,
        quotes=plan.quotes,
        legs=plan.legs,
        price_impact=plan.price_impact,
        context_slot=plan.context_slot,
    )
    return [*commands, route, sign_command(ctx, state.order_id, attempt, latest)]


def _routable(state: OrderState, attempt: int) -> bool:
    if state.status in (OrderStatus.PENDING, OrderStatus.RETRYING):
        return state.attempts == attempt - 1
    # A crash between RoutingStarted and RouteSelected (an older writer) leaves this.
    return state.status == OrderStatus.ROUTING and state.attempts == attempt


def _no_route(ctx: StepContext, attempt: int, reason: str) -> FailAttempt:
    return FailAttempt(
        attempt=attempt,
        reason=f"no route: {reason}",
        code="NoRoute",
        retryable=False,
        max_attempts=ctx.policy.max_attempts,
        retry_after_ms=0,
    )

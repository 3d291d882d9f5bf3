"""The route step: quote every pool, let the domain choose, record quotes and route."""

from __future__ import annotations

import logging

from commands.order_steps import command_id, decide_all, load_order, record
from domain.commands import FailAttempt, OrderCommand, SelectRoute, StartRouting
from domain.errors import InvalidTransition
from domain.order import OrderState
from domain.routing import NoRoute
from domain.status import OrderStatus
from domain.tokens import token_by_symbol
from workers.context import StepContext
from workers.planner import plan_route

log = logging.getLogger("workers.route")


async def route_order(ctx: StepContext, order_id: str, attempt: int) -> None:
    """Start attempt `attempt` and select its route; a no-op when already done."""
    state = await load_order(ctx.store, order_id)
    if state is None or not _routable(state, attempt):
        log.info("route: nothing to do", extra={"order_id": order_id, "attempt": attempt})
        return
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
        commands.append(_no_route(ctx, attempt, error.reason))
    else:
        commands.append(
            SelectRoute(
                attempt=attempt,
                quotes=plan.quotes,
                legs=plan.legs,
                price_impact=plan.price_impact,
                context_slot=plan.context_slot,
            )
        )
    try:
        events = decide_all(state, commands)
    except InvalidTransition as error:
        log.warning("route: refused", extra={"order_id": order_id, "error": str(error)})
        return
    await record(ctx.store, state, events, command_id("route", order_id, attempt))


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

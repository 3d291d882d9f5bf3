"""`route_and_send`: quote every pool, let the domain choose, sign, then send.

Quotes, route and signature go into one append, so the signature and its last valid
block height are recorded before the transaction leaves (DESIGN.md), and an order
costs one message and one reload instead of two. Orders admitted together are routed
together: one read for their states and one blockhash for all of them.
"""

from __future__ import annotations

import asyncio
import logging

from commands.chain_types import Blockhash
from commands.order_steps import command_id, decide_all, load_orders, record
from commands.plan_route import plan_route
from commands.ports import TransactionTooLarge, VenueRejected
from commands.resend_transaction import resend_transaction
from commands.step_context import StepContext
from commands.transactions import send_and_mark, sign_command
from domain.commands import FailAttempt, SelectRoute, StartRouting
from domain.errors import InvalidTransition
from domain.events import OrderEvent
from domain.order_state import OrderState, evolve, order_tokens
from domain.routing import NoRoute, PriceImpactTooHigh, RoutePlan
from domain.status import OrderStatus

log = logging.getLogger(__name__)


async def route_and_send(ctx: StepContext, orders: list[tuple[str, int]]) -> None:
    """Start, route, sign and send each (order_id, attempt) at once; a no-op for the
    steps already done. Raises the first error after all are done, so the broker
    retries the batch (the steps done are then no-ops)."""
    states, latest = await asyncio.gather(
        load_orders(ctx.store, [order_id for order_id, _ in orders]),
        ctx.rpc.latest_blockhash(),
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
        await resend_transaction(ctx, order_id, attempt)
        return
    if state is None or not _routable(state, attempt):
        log.info("route: nothing to do", extra={"order_id": order_id, "attempt": attempt})
        return
    try:
        events = await _route_events(ctx, state, attempt, latest)
    except InvalidTransition as error:
        log.warning("route: refused", extra={"order_id": order_id, "error": str(error)})
        return
    routed = await record(ctx.store, state, events, command_id("route", order_id, attempt))
    if routed is not None and routed.status == OrderStatus.BUILDING:
        await send_and_mark(ctx, routed, attempt)


async def _route_events(
    ctx: StepContext, state: OrderState, attempt: int, latest: Blockhash
) -> list[OrderEvent]:
    """The domain decides the route first; only a route it leaves `building` is signed
    (a limit order whose route fell below its minimum is re-armed, unsigned)."""
    start = StartRouting(attempt=attempt)
    max_legs = ctx.policy.max_route_legs
    while True:
        try:
            plan = await plan_route(
                ctx.quotes,
                *order_tokens(state),
                state.amount_in,
                state.slippage_bps,
                ctx.policy.ladder_steps,
                max_legs,
                ctx.policy.max_price_impact_bps,
            )
        except (NoRoute, VenueRejected) as error:
            return decide_all(state, [start, _unroutable(ctx, attempt, error)])
        routed = decide_all(state, [start, _select(plan, attempt)])
        after = _after(state, routed)
        if after.status != OrderStatus.BUILDING:
            return routed  # the domain ended the attempt: nothing to sign
        try:
            # `state`, not `after`: its signature is the last attempt's (SameTransaction).
            signed = await sign_command(ctx, state, attempt, plan.legs, latest)
        except TransactionTooLarge as error:
            # A split over many pools names too many accounts for one packet: route
            # over one pool fewer (splits gain little per extra pool).
            if len(plan.legs) == 1:
                return decide_all(state, [start, _no_route(ctx, attempt, str(error))])
            max_legs = len(plan.legs) - 1
            continue
        return [*routed, *decide_all(after, [signed])]


def _select(plan: RoutePlan, attempt: int) -> SelectRoute:
    return SelectRoute(
        attempt=attempt,
        quotes=plan.quotes,
        legs=plan.legs,
        price_impact=plan.price_impact,
        context_slot=plan.context_slot,
    )


def _after(state: OrderState, events: list[OrderEvent]) -> OrderState:
    for event in events:
        state = evolve(state, event)
    return state


def _unroutable(ctx: StepContext, attempt: int, error: NoRoute | VenueRejected) -> FailAttempt:
    """Not worth a retry: another attempt asks the same pools the same question. A rate
    limit (429) is the exception: the broker retries the step after a back-off."""
    if isinstance(error, PriceImpactTooHigh):
        return _failed(ctx, attempt, error.reason, "PriceImpactTooHigh")
    if isinstance(error, NoRoute):
        return _no_route(ctx, attempt, error.reason)
    if error.status == 429 or error.status < 400:
        raise error
    field = f"{error.field}: " if error.field else ""
    return _failed(
        ctx, attempt, f"the venue refused the route: {field}{error.message}", "VenueRejected"
    )


def _routable(state: OrderState, attempt: int) -> bool:
    if state.status in (OrderStatus.PENDING, OrderStatus.RETRYING, OrderStatus.TRIGGERED):
        return state.attempts == attempt - 1
    # A crash between RoutingStarted and RouteSelected (an older writer) leaves this.
    return state.status == OrderStatus.ROUTING and state.attempts == attempt


def _no_route(ctx: StepContext, attempt: int, reason: str) -> FailAttempt:
    return _failed(ctx, attempt, f"no route: {reason}", "NoRoute")


def _failed(ctx: StepContext, attempt: int, reason: str, code: str) -> FailAttempt:
    return FailAttempt(
        attempt=attempt,
        reason=reason,
        code=code,
        retryable=False,
        max_attempts=ctx.policy.max_attempts,
        retry_after_ms=0,
    )

"""`GET /api/launches`: the recent pool launches, newest first, and the sniper orders
each matched or skipped (a non-admin key: only its own orders under each launch)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter

from api.authentication import caller_of
from api.problems import problem_responses
from api.read_side import read_side_of
from api.schemas import Camel
from domain.amounts import format_amount
from domain.errors import InvalidField
from domain.tokens import Token, order_token, resolve_token
from projections.launch_queries import LaunchVerdicts, SniperVerdict

MAX_LAUNCHES = 200
DEFAULT_LAUNCHES = 20


class SniperVerdictView(Camel):
    order_id: str
    status: str | None  # null: the read model has not reached the order yet
    filter: str | None  # the filter that refused the pool (skipped only)


class LaunchView(Camel):
    pool: str
    venue: str
    kind: str
    base_mint: str
    quote_mint: str
    quote_token: str  # the quote mint's symbol (SOL, USDC)
    creator: str
    slot: int  # the creation's slot
    open_time: int  # unix seconds of the chain's clock from which the pool trades
    signature: str
    liquidity: str  # the quote reserve at creation, in quote token units
    base_reserve: str  # atomic units of the new token
    base_decimals: int
    mint_renounced: bool
    freezable: bool
    lp_burned_pct: int
    top_holder_pct: int
    matched: list[SniperVerdictView]
    matched_count: int
    skipped: list[SniperVerdictView]
    skipped_count: int


class LaunchPage(Camel):
    items: list[LaunchView]


@get(
    "/api/launches",
    operation_id="listLaunches",
    summary="Recent pool launches and the snipers they triggered",
    description="The newest launches the pool watcher recorded, newest first (by creation "
    "slot), each with the sniper orders it matched and those it skipped with the filter "
    "that refused it (at most 50 of each listed; the counts are of all). A non-admin key "
    "sees every launch but only its own orders under each.",
    responses=problem_responses(400, 401, 503),
)
async def list_launches(
    request: Request[Any, Any, Any],
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LAUNCHES)] = DEFAULT_LAUNCHES,
) -> LaunchPage:
    _, read_side = read_side_of(request)
    caller = caller_of(request)
    recent = await read_side.launches.recent(limit, owner=None if caller.admin else caller.name)
    return LaunchPage(items=[_view(item) for item in recent])


def _view(item: LaunchVerdicts) -> LaunchView:
    launch = item.launch
    quote = _quote_token(launch.quote_mint)
    return LaunchView(
        pool=launch.pool,
        venue=launch.venue,
        kind=launch.kind,
        base_mint=launch.base_mint,
        quote_mint=launch.quote_mint,
        quote_token=quote.symbol,
        creator=launch.creator,
        slot=launch.slot,
        open_time=launch.open_time,
        signature=launch.signature,
        liquidity=format_amount(launch.quote_reserve, quote),
        base_reserve=str(launch.base_reserve),
        base_decimals=launch.base_decimals,
        mint_renounced=launch.mint_authority is None,
        freezable=launch.freeze_authority is not None,
        lp_burned_pct=launch.lp_burned_pct,
        top_holder_pct=launch.top_holder_pct,
        matched=[_verdict(v) for v in item.matched],
        matched_count=item.matched_count,
        skipped=[_verdict(v) for v in item.skipped],
        skipped_count=item.skipped_count,
    )


def _verdict(verdict: SniperVerdict) -> SniperVerdictView:
    return SniperVerdictView(
        order_id=verdict.order_id, status=verdict.status, filter=verdict.filter
    )


def _quote_token(mint: str) -> Token:
    try:
        return resolve_token(mint, "quoteMint")
    except InvalidField:  # not a token of the universe: its amounts stay atomic
        return order_token(mint, 0)

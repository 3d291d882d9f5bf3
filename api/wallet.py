"""`GET /api/wallet`: what the engine's wallet holds on chain now."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from api.problems import ApiError, problem_responses
from api.schemas import BalanceView, WalletView
from api.services import ApiServices
from domain.amounts import format_amount
from domain.tokens import SOL, TOKENS


@get(
    "/api/wallet",
    operation_id="getWallet",
    summary="The engine's wallet: its address and balances on chain",
    description="Each token's balance in token units (SOL: the wrapped SOL it trades), and "
    "the native SOL that pays network fees. Selling more than a balance fails on chain "
    "(InsufficientFunds). 503 when the node does not answer.",
    responses=problem_responses(401, 503),
)
async def get_wallet(services: NamedDependency[ApiServices]) -> WalletView:
    if services.wallet is None:
        raise ApiError(503, "the wallet is not configured in this process")
    held = await services.wallet.holdings()
    balances = [
        BalanceView(
            token=token.symbol, amount=format_amount(held.by_mint.get(token.mint, 0), token)
        )
        for token in TOKENS
    ]
    return WalletView(
        address=held.address,
        balances=balances,
        fee_balance=format_amount(held.lamports, SOL),
    )

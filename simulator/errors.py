"""The simulator's errors: on-chain program failures and rejected requests.

On-chain codes are the venues' own (Anchor custom errors start at 6000), so an engine
written against the simulator recognises the same numbers it would see on mainnet.
"""

from __future__ import annotations

# (code, name) per venue kind for "output below the caller's minimum".
SLIPPAGE_BY_KIND: dict[str, tuple[int, str]] = {
    "amm_v4": (30, "ExceededSlippage"),  # AmmError::ExceededSlippage = 0x1e
    "cpmm": (6005, "ExceededSlippage"),  # 0x1775
    "dlmm": (6003, "ExceededAmountSlippageTolerance"),  # 0x1773
}
# A route of several legs is checked once on its total, as Jupiter's program does.
ROUTE_SLIPPAGE = (6001, "SlippageToleranceExceeded")  # 0x1771


class SwapError(Exception):
    """A venue program refused the swap; `code` is its custom error number."""

    def __init__(self, name: str, code: int | None, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.code = code
        self.message = message


def slippage_error(kind: str, amount_out: int, min_amount_out: int) -> SwapError:
    code, name = SLIPPAGE_BY_KIND[kind]
    return SwapError(name, code, f"amount out {amount_out} < minimum {min_amount_out}")


def route_slippage_error(amount_out: int, min_amount_out: int) -> SwapError:
    code, name = ROUTE_SLIPPAGE
    return SwapError(name, code, f"route out {amount_out} < minimum {min_amount_out}")


def not_approved(open_time: int) -> SwapError:
    return SwapError("NotApproved", 6000, f"pool opens after unix time {open_time}")


def zero_trading_tokens() -> SwapError:
    return SwapError("ZeroTradingTokens", 6006, "swap gives zero output tokens")


def pair_insufficient_liquidity() -> SwapError:
    return SwapError("PairInsufficientLiquidity", 6012, "not enough liquidity in bins")


class InvalidRequest(Exception):
    """A request the simulator rejects; `field` names the offending input."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status

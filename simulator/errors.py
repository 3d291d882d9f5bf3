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


def not_approved(open_time: int) -> SwapError:
    return SwapError("NotApproved", 6000, f"pool opens at unix time {open_time}")


def zero_output() -> SwapError:
    """CPMM `swap_base_input` giving nothing: Anchor's `require_gt!` error, as on chain."""
    return SwapError("RequireGtViolated", 2505, "swap gives zero output tokens")


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


class RpcError(Exception):
    """A JSON-RPC error answer: Solana's `code`, `message` and optional `data`."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


INVALID_PARAMS = -32602
PREFLIGHT_FAILURE = -32002
SIGNATURE_FAILURE = -32003
VERSION_UNSUPPORTED = -32015


def invalid_params(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, message)

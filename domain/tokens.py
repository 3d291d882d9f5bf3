"""The tokens and pairs the engine trades.

The simulator lists the same universe (its own copy, since it may not import the
domain); `tests/unit/test_universe.py` keeps the two in step.
"""

from __future__ import annotations

import msgspec

from domain.errors import InvalidField


class Token(msgspec.Struct, frozen=True):
    symbol: str
    mint: str
    decimals: int


SOL = Token("SOL", "So11111111111111111111111111111111111111112", 9)
USDC = Token("USDC", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 6)
MEME = Token("MEME", "HxziKmD9MgKRvsjfDtBjq8sTcr2gBYv41EbhGj7s45dr", 6)
JUP = Token("JUP", "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", 6)

TOKENS: tuple[Token, ...] = (SOL, USDC, MEME, JUP)

# Pairs with at least one pool; either side may be the input.
PAIRS: frozenset[frozenset[str]] = frozenset(
    {frozenset({"SOL", "USDC"}), frozenset({"MEME", "SOL"}), frozenset({"JUP", "USDC"})}
)

_BY_SYMBOL = {token.symbol: token for token in TOKENS}
_BY_MINT = {token.mint: token for token in TOKENS}


def resolve_token(name: str, field: str) -> Token:
    """Find a token by symbol (any case) or by mint address. Only ASCII: Unicode case
    folding would take look-alikes ("\u017fOL" upper-cases to "SOL")."""
    token = (_BY_SYMBOL.get(name.upper()) or _BY_MINT.get(name)) if name.isascii() else None
    if token is None:
        known = ", ".join(_BY_SYMBOL)
        raise InvalidField(field, f"unknown token {name!r}; known tokens: {known} (or their mints)")
    return token


def token_by_symbol(symbol: str) -> Token:
    return _BY_SYMBOL[symbol]


def order_token(name: str, decimals: int) -> Token:
    """An order's token by what the order records: a known token's symbol, or the mint
    of a launched token (not in the universe; a sniper learns it, and its `decimals`,
    from the pool it matched)."""
    return _BY_SYMBOL.get(name) or Token(name, name, decimals)


def require_pair(token_in: Token, token_out: Token) -> None:
    """Refuse a pair no venue lists, so no order is accepted that can never route."""
    if token_in == token_out:
        raise InvalidField("tokenOut", "must differ from tokenIn")
    if frozenset({token_in.symbol, token_out.symbol}) not in PAIRS:
        pairs = ", ".join(sorted("/".join(sorted(pair)) for pair in PAIRS))
        raise InvalidField(
            "tokenOut", f"no pool trades {token_in.symbol}/{token_out.symbol}; pairs: {pairs}"
        )

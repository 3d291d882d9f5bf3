"""What wallets hold: native lamports and token accounts, as the chain's ledger of balances.

Every wallet starts with the same seeded funds (`STARTING_FUNDS`), as if the genesis of
this cluster had airdropped them: the engine's wallet, whichever key it signs with, can
trade from its first order on, and a balance read before any trade already shows them.
SOL is traded from the wallet's wrapped-SOL token account (its associated account for
the SOL mint), as Jupiter's wrap-and-unwrap does; fees come out of the native lamports.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.pool_keys import token_account
from simulator.universe import JUP, MEME, SOL, USDC, Token

STARTING_LAMPORTS = 1_000 * 10**9
STARTING_FUNDS: dict[str, int] = {
    SOL.mint: 1_000 * 10**SOL.decimals,
    USDC.mint: 150_000 * 10**USDC.decimals,
    MEME.mint: 50_000_000 * 10**MEME.decimals,
    JUP.mint: 150_000 * 10**JUP.decimals,
}
TOKEN_ACCOUNT_RENT = 2_039_280  # lamports a token account holds (rent exempt, 165 bytes)


@dataclass(frozen=True, slots=True)
class TokenAccount:
    address: str
    owner: str
    mint: str


class Wallets:
    """Balances by owner; the token accounts anyone has named, by address."""

    def __init__(self, tokens: list[Token]) -> None:
        self.decimals = {token.mint: token.decimals for token in tokens}
        self._lamports: dict[str, int] = {}
        self._tokens: dict[tuple[str, str], int] = {}
        self.accounts: dict[str, TokenAccount] = {}

    def lamports(self, owner: str) -> int:
        return self._lamports.get(owner, STARTING_LAMPORTS)

    def charge(self, owner: str, lamports: int) -> None:
        self._lamports[owner] = self.lamports(owner) - lamports

    def open_account(self, owner: str, mint: str) -> TokenAccount:
        """The associated token account of `owner` for `mint` (known from now on)."""
        account = TokenAccount(token_account(owner, mint), owner, mint)
        self.accounts.setdefault(account.address, account)
        return account

    def balance(self, owner: str, mint: str) -> int:
        return self._tokens.get((owner, mint), STARTING_FUNDS.get(mint, 0))

    def move(self, owner: str, mint: str, change: int) -> None:
        self._tokens[(owner, mint)] = self.balance(owner, mint) + change

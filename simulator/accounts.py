"""Account reads: `getAccountInfo`, `getBalance`, `getTokenAccountBalance`,
`getTokenAccountsByOwner`, in the layouts of the programs that own the accounts.

Token accounts are SPL Token's 165-byte `Account`, mints its 82-byte `Mint`; wallets are
system accounts holding lamports. Pool state accounts are shown as owned by their
venue's program, without the program's data layout (the quote service's pool keys
carry what a client needs to build a swap).
"""

from __future__ import annotations

import base64
import struct

from solders.pubkey import Pubkey

from simulator.core import Simulator
from simulator.errors import invalid_params
from simulator.program_layouts import PROGRAM_OF_KIND, SYSTEM_PROGRAM, TOKEN_PROGRAM
from simulator.tx_views import ui_amount
from simulator.wallets import TOKEN_ACCOUNT_RENT, TokenAccount

MINT_RENT = 1_461_600
POOL_RENT = 6_124_800


class Accounts:
    """Reads of the simulator's accounts by address."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._vaults: dict[str, tuple[str, str, str]] = {}  # address -> pool, side, owner
        self._mints = {token.mint: token.decimals for token in sim.catalog.tokens}
        self._refresh()

    def _refresh(self) -> None:
        """Take in the pools launched since the last read."""
        if len(self._vaults) == 2 * len(self._sim.keys):
            return
        for keys in self._sim.keys.values():
            owner = keys.accounts.get("authority", keys.id)
            self._vaults[keys.accounts["vaultX"]] = (keys.id, "x", owner)
            self._vaults[keys.accounts["vaultY"]] = (keys.id, "y", owner)
        for mint, launch in self._sim.launchpad.mints.items():
            self._mints[mint] = launch.spec.base_decimals

    def token_account(self, address: str) -> tuple[TokenAccount, int] | None:
        self._refresh()
        wallets = self._sim.wallets
        account = wallets.accounts.get(address)
        if account is not None:
            return account, wallets.balance(account.owner, account.mint)
        vault = self._vaults.get(address)
        if vault is None:
            return None
        pool_address, side, owner = vault
        pool = self._sim.catalog.by_address(pool_address).pool
        mint = pool.info.mint_x if side == "x" else pool.info.mint_y
        held = pool.vaults.x if side == "x" else pool.vaults.y
        return TokenAccount(address, owner, mint), held

    def token_balance(self, address: str) -> dict[str, object]:
        found = self.token_account(address)
        if found is None:
            raise invalid_params("Invalid param: could not find account")
        account, amount = found
        return ui_amount(amount, self._mints[account.mint])

    def accounts_by_owner(self, owner: str, mint: str | None) -> list[dict[str, object]]:
        self._refresh()
        mints = [mint] if mint is not None else list(self._mints)
        if any(m not in self._mints for m in mints):
            raise invalid_params("Invalid param: could not find mint")
        opened = [self._sim.wallets.open_account(owner, m) for m in mints]
        return [{"pubkey": a.address, "account": self.info(a.address)} for a in opened]

    def info(self, address: str) -> dict[str, object] | None:
        """`getAccountInfo`'s value with base64 data; None for an address never used."""
        _check_address(address)
        found = self.token_account(address)
        if found is not None:
            account, amount = found
            return _account(TOKEN_PROGRAM, TOKEN_ACCOUNT_RENT, _token_data(account, amount))
        launch = self._sim.launchpad.mints.get(address)
        if launch is not None:
            spec = launch.spec
            authority = None if spec.mint_renounced else launch.creator
            freeze = launch.creator if spec.freezable else None
            data = _mint_data(spec.base_decimals, authority, spec.base_reserve, freeze)
            return _account(TOKEN_PROGRAM, MINT_RENT, data)
        if address in self._mints:
            return _account(TOKEN_PROGRAM, MINT_RENT, _mint_data(self._mints[address]))
        keys = self._sim.keys.get(address)
        if keys is not None:
            return _account(PROGRAM_OF_KIND[keys.kind], POOL_RENT, b"")
        # Every wallet starts funded (simulator.wallets), so any other address is one.
        return _account(SYSTEM_PROGRAM, self._sim.wallets.lamports(address), b"")


def _check_address(address: str) -> None:
    try:
        Pubkey.from_string(address)
    except ValueError as error:
        raise invalid_params(f"Invalid param: {error}") from error


def _account(owner: str, lamports: int, data: bytes) -> dict[str, object]:
    return {
        "data": [base64.b64encode(data).decode(), "base64"],
        "executable": False,
        "lamports": lamports,
        "owner": owner,
        "rentEpoch": 18_446_744_073_709_551_615,
        "space": len(data),
    }


def _token_data(account: TokenAccount, amount: int) -> bytes:
    # mint, owner, amount, delegate (None), state Initialized, is_native (None),
    # delegated_amount, close_authority (None): spl-token `state::Account`.
    return (
        bytes(Pubkey.from_string(account.mint))
        + bytes(Pubkey.from_string(account.owner))
        + struct.pack("<Q", amount)
        + bytes(36)
        + b"\x01"
        + bytes(12)
        + struct.pack("<Q", 0)
        + bytes(36)
    )


def _mint_data(
    decimals: int, authority: str | None = None, supply: int = 0, freeze: str | None = None
) -> bytes:
    # spl-token `state::Mint`: mint_authority (COption), supply, decimals, initialized,
    # freeze_authority (COption). The universe's mints show none and an untracked supply;
    # a launched one its creator's authorities unless renounced, and the pool's supply.
    return _option(authority) + struct.pack("<Q", supply) + bytes([decimals, 1]) + _option(freeze)


def _option(address: str | None) -> bytes:
    if address is None:
        return bytes(36)
    return struct.pack("<I", 1) + bytes(Pubkey.from_string(address))

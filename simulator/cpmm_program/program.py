"""One LiteSVM running the vendored Raydium CPMM program, and the accounts around it.

LiteSVM's traps, and what this class does about each:
- Only the latest blockhash is valid. Every transaction here is built on the latest one,
  and the blockhash is expired before each, so a transaction can never be refused as stale.
- It remembers only 32 signatures (`with_transaction_history`): a re-sent transaction older
  than that executes a second time, while a newer one fails `AlreadyProcessed`, even when
  it had failed. Expiring the blockhash before each transaction gives every transaction a
  new signature, so a second identical swap is a second swap, never mistaken for a re-send.
  Deduplicating the engine's own re-sent transactions is therefore not done here: in the
  ledger mode (`SIMULATOR_LEDGER=litesvm`) the simulator's signature map (simulator.ledger,
  every signature, and its 150-block window) stands in front of this.
- Results carry no slot or commitment; the caller's chain supplies them.
- The Clock sysvar is only what `set_unix_time` writes: `initialize` and `swap_base_input`
  read `unix_timestamp` from it for `open_time`.
- Admin-only or external setup is written directly (`set_account`): the `AmmConfig`, the
  create-pool fee receiver, mints and token balances. Wallets are not modelled: one operator
  key creates every pool and makes every swap, funded with exactly what it spends.
- Wrapped SOL is native to SPL Token: a transfer out of an account of its mint moves the
  account's lamports as well, so such an account holds its amount in lamports over its rent
  (written otherwise, the program's swap out of a wSOL vault fails `UnbalancedInstruction`).
- A LiteSVM cannot be pickled: `__getstate__` keeps every account this class wrote or a
  pool registered (`keep`), and `__setstate__` loads them into a new one, so a snapshot of
  the simulator (simulator.durable) carries the program's pools.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import cast

from solders.account import Account
from solders.clock import Clock
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.token import ID as TOKEN_PROGRAM_ID
from solders.token.state import Mint, TokenAccount, TokenAccountState
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, SimulatedTransactionInfo

from simulator.cpmm import AmmConfig
from simulator.cpmm_program.layout import (
    CREATE_POOL_FEE_RECEIVER,
    PROGRAM_ID,
    PoolFees,
    amm_config_address,
    amm_config_data,
    decode_pool_fees,
)
from simulator.cpmm_program.outcomes import Executed, ProgramError, program_error
from simulator.cpmm_program.vendored import read_program

WRAPPED_SOL = Pubkey.from_string("So11111111111111111111111111111111111111112")
OPERATOR_LAMPORTS = 10**15  # rent for thousands of pools and fees for millions of swaps
TOKEN_ACCOUNT_LEN = 165  # spl-token `state::Account`


def _loaded_svm() -> LiteSVM:
    svm = LiteSVM()
    svm.add_program(PROGRAM_ID, read_program())
    return svm


class CpmmProgram:
    """A LiteSVM with the CPMM program loaded, a Clock under control and an operator key.

    How it meets LiteSVM's traps (one blockhash, 32 signatures, no slots): module docstring.
    """

    def __init__(self, seed: str = "cpmm-program") -> None:
        self.svm = _loaded_svm()
        self._seed = seed
        self._keys = 0
        self._configs: dict[int, AmmConfig] = {}
        self._kept: dict[Pubkey, None] = {}  # every account of ours, in order (pickling)
        self.operator = self.new_keypair()
        self._operator_key = self.operator.pubkey()  # derived anew on every call: cache it
        self._write(self._operator_key, b"", SYSTEM_PROGRAM_ID, OPERATOR_LAMPORTS)
        self.create_fee_receiver()
        self.set_unix_time(1_700_000_000)

    def __getstate__(self) -> dict[str, object]:
        state = {name: value for name, value in self.__dict__.items() if name != "svm"}
        state["accounts"] = [(key, self.svm.get_account(key)) for key in self._kept]
        state["unix_time"] = self.unix_time
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        accounts = cast(list[tuple[Pubkey, Account | None]], state.pop("accounts"))
        unix_time = cast(int, state.pop("unix_time"))
        self.__dict__.update(state)
        self.svm = _loaded_svm()
        for key, account in accounts:
            if account is not None:
                self.svm.set_account(key, account)
        self.set_unix_time(unix_time)

    def new_keypair(self) -> Keypair:
        """A key derived from the seed, so the same run makes the same addresses."""
        digest = hashlib.sha256(f"{self._seed}:{self._keys}".encode()).digest()
        self._keys += 1
        return Keypair.from_seed(digest)

    def keep(self, *addresses: Pubkey) -> None:
        """Carry these accounts (a pool's, made by the program) across a pickle."""
        self._kept.update(dict.fromkeys(addresses))

    def _write(self, address: Pubkey, data: bytes, owner: Pubkey, lamports: int = 0) -> None:
        rent = self.svm.minimum_balance_for_rent_exemption(len(data))
        self.svm.set_account(address, Account(max(lamports, rent), data, owner))
        self._kept[address] = None

    def create_mint(self, decimals: int = 6, address: Pubkey | None = None) -> Pubkey:
        """An initialised SPL Token mint with no authority (balances are written directly),
        at `address` (a real token's mint, say) or a new one."""
        address = address or self.new_keypair().pubkey()
        mint = Mint(mint_authority=None, supply=0, decimals=decimals, is_initialized=True)
        self._write(address, bytes(mint), TOKEN_PROGRAM_ID)
        return address

    def create_token_account(
        self, mint: Pubkey, owner: Pubkey, amount: int = 0, address: Pubkey | None = None
    ) -> Pubkey:
        """An SPL token account of `mint` held by `owner`, at `address` or a new one."""
        address = address or self.new_keypair().pubkey()
        self.set_token_balance(address, mint, owner, amount)
        return address

    def set_token_balance(self, address: Pubkey, mint: Pubkey, owner: Pubkey, amount: int) -> None:
        """Write a token account holding exactly `amount` of `mint` (wrapped SOL: native,
        its amount in lamports over the rent, as SPL Token keeps it)."""
        native = mint == WRAPPED_SOL
        rent = self.svm.minimum_balance_for_rent_exemption(TOKEN_ACCOUNT_LEN)
        account = TokenAccount(
            mint=mint,
            owner=owner,
            amount=amount,
            delegate=None,
            state=TokenAccountState.Initialized,
            is_native=rent if native else None,
            delegated_amount=0,
        )
        lamports = rent + amount if native else 0
        self._write(address, bytes(account), TOKEN_PROGRAM_ID, lamports)

    def account_data(self, address: Pubkey) -> bytes:
        """The data of the account at `address`; KeyError when there is none."""
        account = self.svm.get_account(address)
        if account is None:
            raise KeyError(f"no account at {address}")
        return bytes(account.data)

    def token_balance(self, address: Pubkey) -> int:
        """The amount an SPL token account holds."""
        return TokenAccount.from_bytes(self.account_data(address)).amount

    def create_fee_receiver(self) -> None:
        """The wrapped-SOL account `initialize` insists on as its create-pool fee receiver."""
        self.create_token_account(WRAPPED_SOL, Pubkey.default(), 0, CREATE_POOL_FEE_RECEIVER)

    def write_amm_config(self, config: AmmConfig, creator_fee_rate: int = 0) -> Pubkey:
        """The `AmmConfig` account of `config.index` (admin-only on chain, so written)."""
        if creator_fee_rate:
            raise ValueError(
                "the vendored build predates the creator fee (simulator/programs/README.md):"
                " it would ignore creator_fee_rate, so only 0 is accepted"
            )
        address, bump = amm_config_address(config.index)
        data = amm_config_data(config, bump)
        known = self._configs.setdefault(config.index, config)
        if known != config:  # a rewrite would silently change every pool of that index
            raise ValueError(f"config index {config.index} is already {known}")
        self._write(address, data, PROGRAM_ID)
        return address

    @property
    def unix_time(self) -> int:
        """The Clock sysvar's `unix_timestamp`, what the program calls now."""
        return self.svm.get_clock().unix_timestamp

    def set_unix_time(self, unix_time: int) -> None:
        """Move the Clock sysvar to `unix_time`; its slot and epoch stay."""
        clock: Clock = self.svm.get_clock()
        if clock.unix_timestamp != unix_time:
            clock.unix_timestamp = unix_time
            self.svm.set_clock(clock)

    def pool_fees(self, pool_state: Pubkey) -> PoolFees:
        """The accrued protocol and fund fees and the `open_time` of a pool."""
        return decode_pool_fees(self.account_data(pool_state))

    def _transaction(
        self, instructions: Sequence[Instruction], signers: Sequence[Keypair]
    ) -> VersionedTransaction:
        """Signed by the operator, who pays the fee, then by `signers`."""
        # A fresh blockhash for each transaction: see the module docstring.
        self.svm.expire_blockhash()
        blockhash = self.svm.latest_blockhash()
        message = MessageV0.try_compile(self._operator_key, instructions, [], blockhash)
        return VersionedTransaction(message, signers)

    def send(
        self, instructions: Sequence[Instruction], signers: Sequence[Keypair] = ()
    ) -> Executed | ProgramError:
        """Sign (operator first, paying the fee) and execute one v0 transaction."""
        tx = self._transaction(instructions, [self.operator, *signers])
        result = self.svm.send_transaction(tx)
        if isinstance(result, FailedTransactionMetadata):
            return program_error(result.err(), result.meta().logs())
        return Executed(tx.signatures[0], result.compute_units_consumed())

    def simulate(
        self, instructions: Sequence[Instruction], signers: Sequence[Keypair] = ()
    ) -> SimulatedTransactionInfo | ProgramError:
        """Run one transaction without committing it; its accounts after are in the result."""
        result = self.svm.simulate_transaction(
            self._transaction(instructions, [self.operator, *signers])
        )
        if isinstance(result, FailedTransactionMetadata):
            return program_error(result.err(), result.meta().logs())
        return result

"""Decoding a verified transaction's instructions against the universe: its compute
budget and one swap per venue instruction, each checked as the venue program checks its
accounts. An instruction whose accounts its program would refuse still lands and fails
there, as on chain (`Transaction.broken`); a program this cluster does not run is
refused outright (`simulator.tx_intake.Refused`).
"""

from __future__ import annotations

from solders.transaction import VersionedTransaction

from simulator.catalog import Catalog
from simulator.config import COMPUTE_UNITS_PER_LEG, MAX_COMPUTE_UNITS
from simulator.ledger import LegOrder, Transaction, TxError, instruction_error
from simulator.pool_keys import PoolKeys
from simulator.program_layouts import (
    COMPUTE_BUDGET,
    KIND_OF_PROGRAM,
    LAYOUTS,
    MEMO_PROGRAM,
    POOL_SLOT,
    TOKEN_PROGRAM,
    decode_compute_budget,
    decode_swap_data,
)
from simulator.tx_intake import Malformed, Refused
from simulator.wallets import TokenAccount, Wallets


class Decoder:
    """Decodes the instructions of verified transactions against the universe."""

    def __init__(self, catalog: Catalog, keys: dict[str, PoolKeys], wallets: Wallets) -> None:
        self._catalog = catalog
        self._keys = keys
        self._wallets = wallets

    def transaction(self, tx: VersionedTransaction, raw: bytes, last_valid: int) -> Transaction:
        message = tx.message
        keys = [str(key) for key in message.account_keys]
        payer = keys[0]
        header = message.header
        signers = header.num_required_signatures
        writable = {
            index
            for index in range(len(keys))
            if index < signers - header.num_readonly_signed_accounts
            or signers <= index < len(keys) - header.num_readonly_unsigned_accounts
        }
        budget: dict[str, int] = {}
        legs: list[LegOrder] = []
        memos: list[str] = []
        broken: TxError | None = None
        for index, ix in enumerate(message.instructions):
            program = keys[ix.program_id_index]
            accounts = [keys[a] for a in ix.accounts]
            if program == COMPUTE_BUDGET:
                request = decode_compute_budget(bytes(ix.data))
                if request is None or request[0] in budget:
                    raise Refused({"DuplicateInstruction": index}, "invalid compute budget")
                budget[request[0]] = request[1]
                continue
            if program == MEMO_PROGRAM:
                try:
                    memos.append(bytes(ix.data).decode("utf-8"))
                except UnicodeDecodeError:
                    # The memo program fails the transaction; it still lands and pays.
                    broken = broken or instruction_error(index, "InvalidInstructionData")
                continue
            kind = KIND_OF_PROGRAM.get(program)
            if kind is None:
                raise Refused("ProgramAccountNotFound", f"program {program} is not deployed")
            flags = [(a in writable, a < signers) for a in ix.accounts]
            leg = self._leg(kind, index, bytes(ix.data), accounts, flags, payer)
            if isinstance(leg, LegOrder):
                legs.append(leg)
            elif broken is None:
                broken = leg
        pools = [leg.pool.info.address for leg in legs]
        if len(set(pools)) != len(pools):
            raise Malformed("each pool may be swapped on once per transaction (simulator limit)")
        swaps = len(message.instructions) - len(budget) - len(memos)
        limit = budget.get("limit", min(MAX_COMPUTE_UNITS, COMPUTE_UNITS_PER_LEG * swaps))
        return Transaction(
            signature=str(tx.signatures[0]),
            payer=payer,
            wire=raw,
            blockhash=str(message.recent_blockhash),
            last_valid_block_height=last_valid,
            legs=tuple(legs),
            compute_unit_price=budget.get("price", 0),
            compute_unit_limit=min(limit, MAX_COMPUTE_UNITS),
            instruction_count=len(message.instructions),
            broken=broken,
            memos=tuple(memos),
        )

    def _leg(
        self,
        kind: str,
        index: int,
        data: bytes,
        accounts: list[str],
        flags: list[tuple[bool, bool]],
        payer: str,
    ) -> LegOrder | TxError:
        amounts = decode_swap_data(kind, data)
        if amounts is None:
            return instruction_error(index, "InvalidInstructionData")
        layout = LAYOUTS[kind]
        if len(accounts) < len(layout):
            return instruction_error(index, "NotEnoughAccountKeys")
        keys = self._keys.get(accounts[POOL_SLOT[kind]])
        if keys is None or keys.kind != kind:
            return instruction_error(index, "InvalidAccountData")
        roles = [role.split(":")[0] for role in layout]
        owner = accounts[roles.index("owner")]
        wallets = self._wallets
        user_x, user_y = (wallets.open_account(owner, m) for m in (keys.mint_x, keys.mint_y))
        x_to_y = accounts[roles.index("user_in")] == user_x.address
        expected = _expected(keys, x_to_y, owner, user_x, user_y)
        for role, address, (is_writable, is_signer) in zip(layout, accounts, flags, strict=False):
            wanted = expected[role.split(":")[0]]
            if address != wanted or (role.endswith(":w") and not is_writable):
                return instruction_error(index, "InvalidAccountData")
            if role.endswith(":s") and not is_signer:
                return instruction_error(index, "MissingRequiredSignature")
        if owner != payer:
            return instruction_error(index, "InvalidAccountData")  # one wallet per transaction
        vault_owner = keys.accounts.get("authority", keys.id)
        vault_x = TokenAccount(keys.accounts["vaultX"], vault_owner, keys.mint_x)
        vault_y = TokenAccount(keys.accounts["vaultY"], vault_owner, keys.mint_y)
        listing = self._catalog.by_address(keys.id)
        return LegOrder(
            pool=listing.pool,
            x_to_y=x_to_y,
            amount_in=amounts.amount_in,
            min_amount_out=amounts.minimum_amount_out,
            instruction_index=index,
            user_in=user_x if x_to_y else user_y,
            user_out=user_y if x_to_y else user_x,
            vault_in=vault_x if x_to_y else vault_y,
            vault_out=vault_y if x_to_y else vault_x,
        )


def _expected(
    keys: PoolKeys,
    x_to_y: bool,
    owner: str,
    user_x: TokenAccount,
    user_y: TokenAccount,
) -> dict[str, str]:
    vault_x, vault_y = keys.accounts["vaultX"], keys.accounts["vaultY"]
    into, out = (keys.mint_x, keys.mint_y) if x_to_y else (keys.mint_y, keys.mint_x)
    return {
        **keys.accounts,
        "owner": owner,
        "pool": keys.id,
        "program": keys.program_id,
        "token_program": TOKEN_PROGRAM,
        "user_in": (user_x if x_to_y else user_y).address,
        "user_out": (user_y if x_to_y else user_x).address,
        "vault_in": vault_x if x_to_y else vault_y,
        "vault_out": vault_y if x_to_y else vault_x,
        "mint_in": into,
        "mint_out": out,
        "mintX": keys.mint_x,
        "mintY": keys.mint_y,
    }

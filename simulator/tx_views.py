"""Transactions and statuses in the shapes of Solana's JSON-RPC.

`getSignatureStatuses` shows `{slot, confirmations, err, status, confirmationStatus}` or
null (never seen, not yet in a block, or expired: Solana has no "expired" status), and
`getTransaction` the transaction with its `meta` (err, fee, balances, logs, units).
"""

from __future__ import annotations

import base64

from solders.message import MessageV0
from solders.transaction import VersionedTransaction

from simulator.base58 import b58encode
from simulator.ledger import Executed, TokenBalance, TxRecord
from simulator.program_layouts import TOKEN_PROGRAM
from simulator.wallets import TOKEN_ACCOUNT_RENT

COMMITMENT_RANK = {"processed": 0, "confirmed": 1, "finalized": 2}


def signature_status(record: TxRecord | None, slot: int) -> dict[str, object] | None:
    if record is None:
        return None
    commitment = record.commitment(slot)
    if commitment is None or record.landed_slot is None:
        return None
    err = record.executed.err if record.executed is not None else None
    return {
        "slot": record.landed_slot,
        "confirmations": None if commitment == "finalized" else slot - record.landed_slot,
        "err": err,
        "status": {"Ok": None} if err is None else {"Err": err},
        "confirmationStatus": commitment,
    }


def reaches(record: TxRecord, slot: int, commitment: str) -> bool:
    reached = record.commitment(slot)
    return reached is not None and COMMITMENT_RANK[reached] >= COMMITMENT_RANK[commitment]


def ui_amount(amount: int, decimals: int) -> dict[str, object]:
    text = str(amount).rjust(decimals + 1, "0")
    whole, frac = text[: len(text) - decimals], text[len(text) - decimals :].rstrip("0")
    ui = f"{whole}.{frac}" if frac else whole
    return {
        "amount": str(amount),
        "decimals": decimals,
        "uiAmount": float(ui),
        "uiAmountString": ui,
    }


def transaction_view(
    record: TxRecord, encoding: str, decimals: dict[str, int]
) -> dict[str, object] | None:
    """`getTransaction`'s result for a landed transaction (None before it landed)."""
    executed, slot = record.executed, record.landed_slot
    if executed is None or slot is None:
        return None
    tx = VersionedTransaction.from_bytes(record.tx.wire)
    keys = [str(key) for key in tx.message.account_keys]
    return {
        "slot": slot,
        "blockTime": executed.block_time,
        "version": 0 if isinstance(tx.message, MessageV0) else "legacy",
        "transaction": _transaction(tx, record.tx.wire, keys, encoding),
        "meta": _meta(executed, keys, decimals),
    }


def _transaction(tx: VersionedTransaction, wire: bytes, keys: list[str], encoding: str) -> object:
    if encoding == "base64":
        return [base64.b64encode(wire).decode(), "base64"]
    message = tx.message
    header = message.header
    instructions = [
        {
            "programIdIndex": ix.program_id_index,
            "accounts": list(ix.accounts),
            "data": b58encode(bytes(ix.data)),
            "stackHeight": None,
        }
        for ix in message.instructions
    ]
    account_keys: list[object] = list(keys)
    if encoding == "jsonParsed":
        signers = header.num_required_signatures
        account_keys = [
            {"pubkey": key, "signer": index < signers, "writable": None, "source": "transaction"}
            for index, key in enumerate(keys)
        ]
    return {
        "signatures": [str(signature) for signature in tx.signatures],
        "message": {
            "accountKeys": account_keys,
            "header": {
                "numRequiredSignatures": header.num_required_signatures,
                "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
                "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
            },
            "recentBlockhash": str(message.recent_blockhash),
            "instructions": instructions,
            "addressTableLookups": [],
        },
    }


def _meta(executed: Executed, keys: list[str], decimals: dict[str, int]) -> dict[str, object]:
    # Only the fee payer's lamports move (the fee); token accounts hold their rent.
    rest = [TOKEN_ACCOUNT_RENT] * (len(keys) - 1)
    return {
        "err": executed.err,
        "status": {"Ok": None} if executed.err is None else {"Err": executed.err},
        "fee": executed.fee,
        "preBalances": [executed.pre_lamports, *rest],
        "postBalances": [executed.post_lamports, *rest],
        "innerInstructions": [],
        "logMessages": executed.logs,
        "preTokenBalances": _balances(executed.pre_tokens, keys, decimals),
        "postTokenBalances": _balances(executed.post_tokens, keys, decimals),
        "rewards": [],
        "loadedAddresses": {"writable": [], "readonly": []},
        "computeUnitsConsumed": executed.units_consumed,
    }


def _balances(
    balances: list[TokenBalance], keys: list[str], decimals: dict[str, int]
) -> list[dict[str, object]]:
    index = {key: position for position, key in enumerate(keys)}
    return [
        {
            "accountIndex": index[balance.account],
            "mint": balance.mint,
            "owner": balance.owner,
            "programId": TOKEN_PROGRAM,
            "uiTokenAmount": ui_amount(balance.amount, decimals[balance.mint]),
        }
        for balance in balances
        if balance.account in index
    ]

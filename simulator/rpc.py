"""Solana JSON-RPC 2.0 methods over one Simulator (SIMULATOR.md §12).

`Rpc.call(method, params)` returns the `result` or raises `RpcError` with Solana's
code. Each method belongs to one class (`METHOD_CLASS`: sends, status reads, other
reads, control), which is what a fault injector keys on (`simulator.server`). Status
reads see the chain through the `Hostile` layer (`simulator.hostile`): as of a few slots
ago (stale), or with a landed signature still hidden (lag); by default as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, cast

from simulator.accounts import Accounts
from simulator.core import MAX_SIGNATURES, Simulator
from simulator.errors import VERSION_UNSUPPORTED, InvalidRequest, RpcError, invalid_params
from simulator.hostile import Hostile, HostileConfig, HostileError
from simulator.launch_requests import launch_spec, launch_view, signatures_for_address
from simulator.ledger import Executed, TxRecord
from simulator.tx_intake import Malformed, decode_wire
from simulator.tx_views import reaches, signature_status, transaction_view

MethodClass = Literal["send", "status", "read", "control"]
Params = list[Any]

METHOD_CLASS: dict[str, MethodClass] = {
    "sendTransaction": "send",
    "getSignatureStatuses": "status",
    "getTransaction": "status",
    "getLatestBlockhash": "read",
    "getBlockHeight": "read",
    "getSlot": "read",
    "getBlockTime": "read",
    "getHealth": "read",
    "getVersion": "read",
    "isBlockhashValid": "read",
    "simulateTransaction": "read",
    "getAccountInfo": "read",
    "getBalance": "read",
    "getTokenAccountBalance": "read",
    "getTokenAccountsByOwner": "read",
    "getSignaturesForAddress": "read",
    "simulator_advanceSlots": "control",
    "simulator_movePrice": "control",
    "simulator_signatureFates": "control",
    "simulator_hostile": "control",
    "simulator_launchPool": "control",
}


def _config(params: Params, position: int) -> dict[str, Any]:
    if len(params) > position and params[position] is not None:
        if not isinstance(params[position], dict):
            raise invalid_params(f"Invalid params: argument {position} must be an object")
        return cast(dict[str, Any], params[position])
    return {}


def _argument(params: Params, position: int, kind: type, name: str) -> Any:
    if len(params) <= position or not isinstance(params[position], kind):
        raise invalid_params(f"Invalid params: expected {name} at position {position}")
    return params[position]


class Rpc:
    """The methods; `clock_driven` refuses `simulator_advanceSlots` (a wall clock runs)."""

    def __init__(
        self, sim: Simulator, clock_driven: bool = False, hostile: Hostile | None = None
    ) -> None:
        self.sim = sim
        self._clock_driven = clock_driven
        self.hostile = hostile or Hostile()
        self._accounts = Accounts(sim)
        self._methods: dict[str, Callable[[Params], object]] = {
            name: getattr(self, "_" + name) for name in METHOD_CLASS
        }

    def call(self, method: str, params: Params) -> object:
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(-32601, "Method not found")
        try:
            return handler(params)
        except InvalidRequest as error:
            raise invalid_params(f"Invalid params: {error.field}: {error.message}") from error

    def _context(self, value: object, slot: int | None = None) -> dict[str, object]:
        slot = self.sim.chain.slot if slot is None else slot
        return {"context": {"slot": slot, "apiVersion": "2.1.0"}, "value": value}

    def _status_slot(self) -> int:
        """The slot a status read is answered as of (behind the chain when stale)."""
        return max(0, self.sim.chain.slot - self.hostile.behind())

    def _shown(self, record: TxRecord | None, slot: int) -> TxRecord | None:
        """`record` as a status read at `slot` sees it: None before it landed as of
        that slot, or while the node's status index lags behind its landing."""
        if record is None or record.landed_slot is None:
            return record
        if record.landed_slot > slot:  # landed after the slot a stale read is as of
            return None
        if record.landed_slot + self.hostile.config.lag > slot:
            self.hostile.count("lag")
            return None
        return record

    def _getLatestBlockhash(self, params: Params) -> object:  # noqa: N802 (Solana's names)
        chain = self.sim.chain
        return self._context(
            {"blockhash": chain.blockhash, "lastValidBlockHeight": chain.last_valid_block_height()}
        )

    def _getBlockHeight(self, params: Params) -> object:  # noqa: N802
        return self.sim.chain.block_height

    def _getSlot(self, params: Params) -> object:  # noqa: N802
        return self.sim.chain.slot

    def _getBlockTime(self, params: Params) -> object:  # noqa: N802
        """A produced slot's unix time (the Clock sysvar's seconds); a slot not produced
        yet is Solana's -32004, as a node answers for a block it does not have."""
        slot = params[0] if params else None
        if not isinstance(slot, int) or isinstance(slot, bool) or slot < 0:
            raise invalid_params("getBlockTime takes a slot number")
        if slot > self.sim.chain.slot:
            raise RpcError(-32004, f"Block not available for slot {slot}")
        return self.sim.chain.unix_time_at(slot)

    def _getHealth(self, params: Params) -> object:  # noqa: N802
        return "ok"

    def _getVersion(self, params: Params) -> object:  # noqa: N802
        return {"solana-core": "2.1.0-simulator", "feature-set": 0}

    def _isBlockhashValid(self, params: Params) -> object:  # noqa: N802
        blockhash = _argument(params, 0, str, "a blockhash")
        chain = self.sim.chain
        height = chain.height_of(blockhash)
        return self._context(height is not None and chain.block_height <= height + 150)

    def _sendTransaction(self, params: Params) -> object:  # noqa: N802
        encoded = _argument(params, 0, str, "an encoded transaction")
        config = _config(params, 1)
        raw = self._wire(encoded, config)
        return self.sim.send_transaction(raw, skip_preflight=bool(config.get("skipPreflight")))

    def _simulateTransaction(self, params: Params) -> object:  # noqa: N802
        encoded = _argument(params, 0, str, "an encoded transaction")
        config = _config(params, 1)
        run: Executed = self.sim.simulate(
            self._wire(encoded, config), bool(config.get("sigVerify"))
        )
        return self._context(
            {
                "err": run.err,
                "logs": run.logs,
                "accounts": None,
                "unitsConsumed": run.units_consumed,
                "returnData": None,
            }
        )

    def _getSignatureStatuses(self, params: Params) -> object:  # noqa: N802
        signatures = _argument(params, 0, list, "a list of signatures")
        records = self.sim.signature_statuses([str(s) for s in signatures])
        slot = self._status_slot()
        return self._context(
            [signature_status(self._shown(record, slot), slot) for record in records], slot
        )

    def _getTransaction(self, params: Params) -> object:  # noqa: N802
        signature = _argument(params, 0, str, "a signature")
        config = _config(params, 1)
        commitment = config.get("commitment", "finalized")
        if commitment not in ("confirmed", "finalized"):
            raise invalid_params("Method does not support commitment below `confirmed`")
        encoding = config.get("encoding", "json")
        if encoding not in ("json", "jsonParsed", "base64"):
            raise invalid_params(f"Invalid params: unsupported encoding {encoding!r}")
        slot = self._status_slot()
        record = self._shown(self.sim.ledger.get(signature), slot)
        if record is None or not reaches(record, slot, commitment):
            return None
        if config.get("maxSupportedTransactionVersion") is None:
            raise RpcError(
                VERSION_UNSUPPORTED,
                "Transaction version (0) is not supported by the requesting client. Please try"
                " the request again with the following configuration parameter:"
                ' "maxSupportedTransactionVersion": 0',
            )
        return transaction_view(record, encoding, self.sim.wallets.decimals)

    def _getAccountInfo(self, params: Params) -> object:  # noqa: N802
        address = _argument(params, 0, str, "an address")
        return self._context(self._accounts.info(address))

    def _getBalance(self, params: Params) -> object:  # noqa: N802
        address = _argument(params, 0, str, "an address")
        info = self._accounts.info(address)
        return self._context(info["lamports"] if info is not None else 0)

    def _getTokenAccountBalance(self, params: Params) -> object:  # noqa: N802
        address = _argument(params, 0, str, "a token account address")
        return self._context(self._accounts.token_balance(address))

    def _getTokenAccountsByOwner(self, params: Params) -> object:  # noqa: N802
        owner = _argument(params, 0, str, "an owner address")
        mint = _config(params, 1).get("mint")
        return self._context(self._accounts.accounts_by_owner(owner, mint))

    def _getSignaturesForAddress(self, params: Params) -> object:  # noqa: N802
        address = _argument(params, 0, str, "an address")
        signatures = self.sim.launchpad.signatures.get(address, [])
        return signatures_for_address(
            signatures, self.sim.ledger, self.sim.chain, _config(params, 1)
        )

    def _simulator_launchPool(self, params: Params) -> object:  # noqa: N802
        spec = launch_spec(_config(params, 0), self.sim.catalog)
        return launch_view(self.sim.launch_pool(spec))

    def _simulator_advanceSlots(self, params: Params) -> object:  # noqa: N802
        if self._clock_driven:
            raise invalid_params("a wall clock drives this simulator (time scale > 0)")
        slots = _config(params, 0).get("slots", 1)
        if not isinstance(slots, int):
            raise invalid_params("Invalid params: slots must be an integer")
        return {"slot": self.sim.advance_slots(slots), "blockHeight": self.sim.chain.block_height}

    def _simulator_movePrice(self, params: Params) -> object:  # noqa: N802
        config = _config(params, 0)
        pair, bps = config.get("pair"), config.get("bps")
        if not isinstance(pair, str) or not isinstance(bps, int):
            raise invalid_params("Invalid params: expected {pair: string, bps: integer}")
        return {"pair": pair, "referencePrice": f"{self.sim.move_price(pair, bps):.12g}"}

    def _simulator_signatureFates(self, params: Params) -> object:  # noqa: N802
        signatures = _argument(params, 0, list, "a list of signatures")
        if len(signatures) > MAX_SIGNATURES:
            raise invalid_params(f"Too many inputs provided; max {MAX_SIGNATURES}")
        return [self.sim.ledger.fate(str(signature)) for signature in signatures]

    def _simulator_hostile(self, params: Params) -> object:
        """`[{"modes": SPEC}]` (see simulator.hostile) sets the hostile modes; `[]` only
        reads them. The current spec and what each mode did since it was set."""
        if params:
            spec = _config(params, 0).get("modes")
            if not isinstance(spec, str):
                raise invalid_params("Invalid params: modes must be a string, e.g. 'drop:0.2'")
            try:
                self.hostile.configure(HostileConfig.parse(spec))
            except HostileError as error:
                raise invalid_params(f"Invalid params: {error.field}: {error.message}") from error
        return {"modes": self.hostile.config.spec(), "counts": self.hostile.counts}

    def _wire(self, encoded: str, config: dict[str, Any]) -> bytes:
        try:
            return decode_wire(encoded, config.get("encoding", "base58"))
        except Malformed as error:
            raise invalid_params(str(error)) from error

"""The executor around the real CPMM program: its setup, and LiteSVM's traps it documents."""

from pathlib import Path

import pytest
from solders.message import MessageV0
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, TransactionMetadata
from solders.transaction_status import TransactionErrorFieldless

from simulator.cpmm import CONFIG_025, AmmConfig
from simulator.cpmm_program import (
    CpmmProgram,
    ProgramError,
    ProgramFileMismatch,
    ProgramPool,
    ProgramRefused,
    SwapFilled,
)
from simulator.cpmm_program.instructions import swap_base_input
from simulator.cpmm_program.vendored import PROGRAM_SHA256, program_path, read_program


@pytest.fixture
def program() -> CpmmProgram:
    return CpmmProgram()


def test_the_vendored_file_is_the_one_of_the_readme() -> None:
    assert len(read_program()) == 535_664
    assert PROGRAM_SHA256 in (program_path().parent / "README.md").read_text()


def test_a_different_file_is_refused(tmp_path: Path) -> None:
    altered = bytearray(read_program())
    altered[-1] ^= 1
    (tmp_path / "raydium_cp_swap.so").write_bytes(altered)
    with pytest.raises(ProgramFileMismatch, match="restore it with git"):
        read_program(tmp_path / "raydium_cp_swap.so")
    with pytest.raises(ProgramFileMismatch, match="is missing"):
        read_program(tmp_path / "absent.so")


def test_initialize_opens_the_pool_no_earlier_than_the_next_second(program: CpmmProgram) -> None:
    now = program.unix_time
    assert ProgramPool.create(program, CONFIG_025, 10**9, 10**9, open_time=0).open_time == now + 1
    later = ProgramPool.create(program, CONFIG_025, 10**9, 10**9, open_time=now + 50)
    assert later.open_time == now + 50


def test_a_pool_below_100_lp_units_is_refused(program: CpmmProgram) -> None:
    # initialize mints isqrt(x * y) - 100 LP tokens; 99 * 99 leaves none to lock.
    with pytest.raises(ProgramRefused) as refused:
        ProgramPool.create(program, CONFIG_025, 99, 99)
    assert (refused.value.error.code, refused.value.error.name) == (6009, "InitLpAmountTooLess")


def test_configs_outside_the_programs_bounds_are_not_written(program: CpmmProgram) -> None:
    with pytest.raises(ValueError, match="bounds"):
        program.write_amm_config(AmmConfig(index=7, trade_fee_rate=1_000_000))
    with pytest.raises(ValueError, match="bounds"):
        program.write_amm_config(
            AmmConfig(7, 2_500, protocol_fee_rate=600_000, fund_fee_rate=500_000)
        )
    with pytest.raises(ValueError, match="creator fee"):
        program.write_amm_config(CONFIG_025, creator_fee_rate=1_000)
    program.write_amm_config(CONFIG_025)
    with pytest.raises(ValueError, match="already"):
        program.write_amm_config(AmmConfig(index=0, trade_fee_rate=10_000))


def test_identical_swaps_each_execute(program: CpmmProgram) -> None:
    pool = ProgramPool.create(program, CONFIG_025, 10**12, 10**12)
    program.set_unix_time(pool.open_time)
    first = pool.swap_base_input(10**6, 0, x_to_y=True)
    second = pool.swap_base_input(10**6, 0, x_to_y=True)
    assert isinstance(first, SwapFilled)
    assert isinstance(second, SwapFilled)
    assert second.amount_out < first.amount_out  # the second met the moved curve


def test_quote_simulates_without_changing_the_pool(program: CpmmProgram) -> None:
    pool = ProgramPool.create(program, CONFIG_025, 10**12, 3 * 10**12)
    now = pool.open_time
    before = pool.vaults(), pool.fees()
    quoted = pool.quote(10**9, x_to_y=False, now=now)
    assert (pool.vaults(), pool.fees()) == before
    assert pool.swap(10**9, x_to_y=False, now=now) == quoted
    assert quoted.protocol_fee == 400_000  # 12 % + 4 % of the 2.5e6 trade fee


def test_litesvm_remembers_only_32_signatures(program: CpmmProgram) -> None:
    # Why the ledger mode needs its own signature map: within one blockhash, a re-sent
    # transaction is refused while it is among the last 32, and executes again after.
    pool = ProgramPool.create(program, CONFIG_025, 10**15, 10**15)
    program.set_unix_time(pool.open_time)
    blockhash = program.svm.latest_blockhash()

    def signed(amount_in: int) -> VersionedTransaction:
        instruction = swap_base_input(pool.addresses, pool.trader, True, amount_in, 0)
        message = MessageV0.try_compile(program.operator.pubkey(), [instruction], [], blockhash)
        return VersionedTransaction(message, [program.operator])

    program.set_token_balance(pool.trader.token_0, pool.addresses.mint_0, pool.trader.payer, 10**12)
    assert isinstance(program.svm.send_transaction(signed(1_000)), TransactionMetadata)
    again = program.svm.send_transaction(signed(1_000))
    assert isinstance(again, FailedTransactionMetadata)
    assert again.err() == TransactionErrorFieldless.AlreadyProcessed
    for amount_in in range(2_000, 2_032):
        assert isinstance(program.svm.send_transaction(signed(amount_in)), TransactionMetadata)
    assert isinstance(program.svm.send_transaction(signed(1_000)), TransactionMetadata)


def test_only_the_latest_blockhash_is_valid(program: CpmmProgram) -> None:
    pool = ProgramPool.create(program, CONFIG_025, 10**12, 10**12)
    instruction = swap_base_input(pool.addresses, pool.trader, True, 1_000, 0)
    stale = MessageV0.try_compile(
        program.operator.pubkey(), [instruction], [], program.svm.latest_blockhash()
    )
    program.svm.expire_blockhash()
    result = program.svm.send_transaction(VersionedTransaction(stale, [program.operator]))
    assert isinstance(result, FailedTransactionMetadata)
    assert result.err() == TransactionErrorFieldless.BlockhashNotFound


def test_failures_are_typed_with_the_programs_names(program: CpmmProgram) -> None:
    pool = ProgramPool.create(program, CONFIG_025, 10**9, 10**9, open_time=program.unix_time + 10)
    assert pool.swap_base_input(1_000, 0, True) == ProgramError("NotApproved", 6000, 0)
    program.set_unix_time(pool.open_time)
    assert pool.swap_base_input(1, 0, True) == ProgramError("RequireGtViolated", 2505, 0)
    assert pool.swap_base_input(1_000, 10**9, True) == ProgramError("ExceededSlippage", 6005, 0)

"""WALLET_KEYPAIR: a Solana CLI keypair file, or a seeded key for the simulator; a file
that is not one is a configuration error (status 2), naming the file, never the key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from solders.keypair import Keypair

from orderengine.processes import run_dispatcher, run_worker
from orderengine.settings import ConfigurationError, EngineSettings
from workers.solana.wallet import WalletRefused, load_keypair


def test_a_cli_keypair_file_is_the_wallet(tmp_path: Path) -> None:
    keypair = Keypair()
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(keypair))))
    assert load_keypair(str(path), seed=0).pubkey() == keypair.pubkey()


def test_no_file_is_a_key_derived_from_the_seed() -> None:
    assert load_keypair("", seed=3).pubkey() == load_keypair("", seed=3).pubkey()
    assert load_keypair("", seed=3).pubkey() != load_keypair("", seed=4).pubkey()


@pytest.mark.parametrize("content", [None, "not json", "[1, 2, 3]", json.dumps(["a"] * 64)])
def test_a_file_that_is_no_keypair_is_refused_naming_the_file(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "id.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(WalletRefused) as refused:
        load_keypair(str(path), seed=0)
    assert str(path) in str(refused.value)


@pytest.mark.parametrize("run", [run_worker, run_dispatcher])
def test_a_process_with_a_refused_wallet_is_a_configuration_error(
    tmp_path: Path, run: Callable[[EngineSettings], int]
) -> None:
    secret = json.dumps(list(range(63)))  # one byte short
    (tmp_path / "id.json").write_text(secret)
    settings = EngineSettings.from_environment({"WALLET_KEYPAIR": str(tmp_path / "id.json")})
    with pytest.raises(ConfigurationError) as refused:
        run(settings)
    assert str(tmp_path / "id.json") in str(refused.value)
    assert secret not in str(refused.value)

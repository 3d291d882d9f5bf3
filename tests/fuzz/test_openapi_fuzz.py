"""Schemathesis against a real `orderengine api` process on a fresh database: no 5xx,
every response as `/schema/openapi.json` documents it, and no refused request changed
the event log (counted before and after each call)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from db.migrate import migrate
from simulator.config import SimulatorConfig
from tests.conftest import count_events
from tests.support.api_keys import TEST_SECRET, bearer, make_key
from tests.support.servers import free_port, fresh_database, wait_ready
from tests.support.simulator_thread import simulator_thread

pytestmark = pytest.mark.slow
EXAMPLES_PER_OPERATION = 30
# Not checked: "every schema-valid request is accepted". Whether a token or pair exists
# is data (the simulator's universe), not schema, so a well-formed unknown token is a
# documented 400; every other check of schemathesis runs.


class FuzzedApi:
    def __init__(self, base_url: str, database_url: str) -> None:
        self.base_url = base_url
        self.database_url = database_url
        self.auth = bearer(make_key(database_url, admin=True))


@pytest.fixture(scope="module")
def fuzzed_api(postgres_admin: str, redis_server: str) -> Iterator[FuzzedApi]:
    with (
        fresh_database(postgres_admin, prefix="oe_fuzz") as database_url,
        simulator_thread(SimulatorConfig(seed=13)) as simulator,
    ):
        migrate(database_url)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server,
            "SIMULATOR_URL": simulator.url,
            "LOG_LEVEL": "WARNING",
            "API_KEY_SECRET": TEST_SECRET,
            "RATE_LIMIT_PER_KEY": "0",  # fuzzing is not a client over its limit
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "orderengine", "api", "--port", str(port)], env=env
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_ready(base_url, 30)
            yield FuzzedApi(base_url, database_url)
        finally:
            process.terminate()
            process.wait(10)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_documented_contract(fuzzed_api: FuzzedApi, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed_api.base_url}/schema/openapi.json")
    # Every case carries a valid key (`FuzzedApi.auth`): the cases fuzz what lies behind
    # the key check; a case without a key would only ever meet the 401.
    schema.config.generation.update(with_security_parameters=False)
    calls: Counter[str] = Counter()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document is invalid: {result.err()}"
        operation = result.ok()
        try:
            _contract_test(operation, mode, fuzzed_api, calls)()
        except Unsatisfiable:
            # An operation without parameters or body has no invalid input to send.
            assert mode is GenerationMode.NEGATIVE, operation.label
            calls[f"{operation.label} (nothing to negate)"] += 0
    print(f"\nschemathesis ({mode}): {sum(calls.values())} calls", dict(sorted(calls.items())))


def _contract_test(
    operation: APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    api: FuzzedApi,
    calls: Counter[str],
) -> Callable[[], None]:
    @given(case=operation.as_strategy(generation_mode=mode), real_pair=st.booleans())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def keeps_contract(case: Case[Any], real_pair: bool) -> None:
        if real_pair:
            _trade_a_real_pair(case, negative=mode is GenerationMode.NEGATIVE)
        before = count_events(api.database_url)
        response = case.call_and_validate(
            base_url=api.base_url,
            timeout=10,
            headers=api.auth,
            excluded_checks=[positive_data_acceptance],
        )
        appended = count_events(api.database_url) - before
        calls[f"{operation.label} {response.status_code}"] += 1
        if response.status_code >= 400:
            assert appended == 0, f"{response.status_code} refused, yet {appended} appended"
        else:
            # Only an accepted submission appends, and then one OrderSubmitted.
            assert appended in (0, 1)

    return keeps_contract


def _trade_a_real_pair(case: Case[Any], *, negative: bool) -> None:
    """Random token names are almost never in the universe: half the cases name a pool
    that exists, so accepted submissions and real quotes are fuzzed too.

    A negative case must stay invalid: only fields that are still of their documented
    type (strings) are replaced, and `type` (an enumeration, whose negation is also a
    string) is left as generated. Replacing the very field schemathesis broke made a
    valid request that it then reported as "schema-violating request accepted"."""
    for fields in (case.body, case.query):
        if not isinstance(fields, dict) or "tokenIn" not in fields:
            continue
        for name, symbol in (("tokenIn", "SOL"), ("tokenOut", "USDC")):
            if not negative or isinstance(fields.get(name), str):
                fields[name] = symbol
        if "type" in fields and not negative:
            fields["type"] = "market"

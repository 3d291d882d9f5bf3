"""How the API's error handler answers what litestar raises."""

from __future__ import annotations

import logging

import pytest
from litestar.exceptions import InternalServerException

from api.errors import CLIENT_GONE, _http_exception


def test_a_client_that_hung_up_mid_body_is_no_server_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Litestar raises a 500 for it; under overload a soak logged 2,861 "unhandled error"s.
    with caplog.at_level(logging.INFO, logger="api.errors"):
        answer = _http_exception(InternalServerException(CLIENT_GONE))
    assert answer.status_code == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_any_other_internal_error_is_logged_as_one(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="api.errors"):
        answer = _http_exception(InternalServerException("boom"))
    assert answer.status_code == 500
    assert [r.message for r in caplog.records if r.levelno >= logging.ERROR] == ["unhandled error"]

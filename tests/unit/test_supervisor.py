"""`orderengine up`'s supervision: a child refused its configuration stops everything."""

from __future__ import annotations

import os
import signal
import sys
import time

from orderengine.supervisor import CONFIGURATION_REFUSED, Child, supervise


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_child_refused_its_configuration_stops_every_child() -> None:
    # Restarting it could only fail again, forever: `up` stops with the same status.
    lasting = Child("lasting", _python("import time; time.sleep(60)"))
    refused = Child("refused", _python(f"import sys; sys.exit({CONFIGURATION_REFUSED})"))
    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    started = time.monotonic()
    try:
        status = supervise([lasting, refused], dict(os.environ))
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    assert status == CONFIGURATION_REFUSED
    assert time.monotonic() - started < 15
    assert lasting.process is not None
    assert lasting.process.poll() is not None
    assert refused.restarts == 0

"""A network fault made by the kernel: a network namespace joined to this one by a veth
pair on a private /30, so that a process started in it (`ip netns exec`) reaches the
servers only over that link, and the link's queueing discipline (`tc`) can cut it, or
make it lossy and slow, while the process runs on, unaware.

With `netem` the cut is `loss 100%` and the bad link is `loss P delay D jitter`. A
kernel without `sch_netem` (some containers) gets the same faults from `tbf`, which
every kernel has: a bucket smaller than any packet passes nothing (the cut), a slow rate
with a short queue delays what passes and drops what overflows (lossy and slow).

Needs root and `ip`/`tc`; `unavailable()` says why not, for a skip.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

_numbers = itertools.count()


def _run(*argv: str, namespace: str | None = None, check: bool = True) -> int:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    done = subprocess.run(
        [*prefix, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.decode().strip()}")
    return done.returncode


def unavailable() -> str | None:
    """Why a namespace cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"`{tool}` (iproute2) is not installed"
    name = f"oe-probe-{os.getpid()}"
    if _run("ip", "netns", "add", name, check=False) != 0:
        return "`ip netns add` is refused here (no CAP_SYS_ADMIN / CAP_NET_ADMIN)"
    _run("ip", "netns", "del", name, check=False)
    return None


class Namespace:
    """`name`, with `host_address` on this side of the link and `address` inside."""

    def __init__(self, number: int) -> None:
        tag = f"{os.getpid() % 10_000}x{number}"
        self.name = f"oe-ns-{tag}"
        self.host_link = f"oe-h{tag}"[:15]
        self.link = f"oe-n{tag}"[:15]
        # A /30 of its own in 10.231.0.0/16, per process and namespace.
        block = (os.getpid() * 4 + number) % 16_384
        base = (10 << 24) | (231 << 16) | (block * 4)
        self.host_address = _dotted(base + 1)
        self.address = _dotted(base + 2)
        self.netem = False
        self.fault = "none"

    def create(self) -> None:
        _run("ip", "netns", "add", self.name)
        _run("ip", "link", "add", self.host_link, "type", "veth", "peer", "name", self.link)
        _run("ip", "link", "set", self.link, "netns", self.name)
        _run("ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_link)
        _run("ip", "link", "set", self.host_link, "up")
        _run("ip", "addr", "add", f"{self.address}/30", "dev", self.link, namespace=self.name)
        _run("ip", "link", "set", self.link, "up", namespace=self.name)
        _run("ip", "link", "set", "lo", "up", namespace=self.name)
        self.netem = self._qdisc("netem", "delay", "0ms") == 0
        self.heal()

    def delete(self) -> None:
        _run("ip", "netns", "del", self.name, check=False)  # takes the veth pair with it
        _run("ip", "link", "del", self.host_link, check=False)

    def prefix(self) -> list[str]:
        """What to put before a command to run it inside."""
        return ["ip", "netns", "exec", self.name]

    def _qdisc(self, *qdisc: str) -> int:
        """Replace the root qdisc on both ends of the link (both directions)."""
        here = _run("tc", "qdisc", "replace", "dev", self.host_link, "root", *qdisc, check=False)
        there = _run(
            "tc", "qdisc", "replace", "dev", self.link, "root", *qdisc,
            namespace=self.name, check=False,
        )  # fmt: skip
        return here or there

    def _set(self, fault: str, *qdisc: str) -> None:
        if self._qdisc(*qdisc) != 0:
            raise RuntimeError(f"tc refused {' '.join(qdisc)} on {self.host_link}")
        self.fault = fault

    def cut(self) -> None:
        """Nothing passes either way; connections stay open, unanswered."""
        if self.netem:
            self._set("cut (netem loss 100%)", "netem", "loss", "100%")
        else:
            self._set("cut (tbf, bucket below a packet)", "tbf", "rate", "8kbit", "burst", "10",
                      "limit", "10")  # fmt: skip

    def lossy_and_slow(self) -> None:
        if self.netem:
            self._set("lossy and slow (netem loss 10% delay 150ms 100ms)",
                      "netem", "loss", "10%", "delay", "150ms", "100ms")  # fmt: skip
        else:
            self._set("lossy and slow (tbf 2mbit, 8 kB queue)",
                      "tbf", "rate", "2mbit", "burst", "4kb", "limit", "8kb")  # fmt: skip

    def heal(self) -> None:
        self._set("none", "pfifo", "limit", "1000")


def _dotted(address: int) -> str:
    return ".".join(str((address >> shift) & 255) for shift in (24, 16, 8, 0))


@contextmanager
def namespace() -> Iterator[Namespace]:
    """A fresh namespace and its link for the block; deleted after."""
    made = Namespace(next(_numbers))
    made.delete()  # a leftover of a killed run with the same pid
    try:
        made.create()
        yield made
    finally:
        made.delete()

"""What `bench.global_log_load` returns: what each reader of the global log saw while
concurrent writers appended, the protocol's reader and the naive one."""

from __future__ import annotations

import msgspec

from bench.measures import Distribution, Figure, Throughput, ratio


class ReaderRound(msgspec.Struct, frozen=True):
    reader: str
    committed: int
    lost: int
    duplicated: int
    out_of_order_streams: int
    seconds: float


class GlobalLogResult(msgspec.Struct, frozen=True):
    rounds: list[ReaderRound]  # the protocol reader's first, then the naive one's

    def _first(self, reader: str) -> ReaderRound:
        return next(r for r in self.rounds if r.reader == reader)

    def lines(self) -> list[str]:
        return [
            f"{r.reader}: committed={r.committed} lost={r.lost}"
            f" ({100 * r.lost / r.committed:.2f} %) duplicated={r.duplicated}"
            f" out-of-order streams={r.out_of_order_streams} in {r.seconds:.1f}s"
            for r in self.rounds
        ]

    def figures(self) -> list[Figure]:
        protocol, naive = self._first(PROTOCOL), self._first(NAIVE)
        workload = f"concurrent writers, {protocol.committed} events, one reader following the log"
        missed = 100 * naive.lost / naive.committed
        return [
            Figure("global_log_load", "events missed by the protocol reader", str(protocol.lost),
                   workload, f"naive `global_position > last` reader: {naive.lost} missed"
                   f" ({missed:.2f} %)", ratio(protocol.lost, naive.lost)),
        ]  # fmt: skip

    def latencies(self) -> dict[str, Distribution]:
        return {}

    def throughput(self) -> list[Throughput]:
        return []


PROTOCOL = "protocol (tx_id, global_position) below xmin"
NAIVE = "naive global_position > last"

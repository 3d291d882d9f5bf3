"""The limit benchmark's view of the market (`bench/limit.py`): every slot's exact
best single-pool output for each (direction, amount) the orders use, when each slot
was first seen, and the price moves it makes; and the evaluator process's CPU and RSS.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx

from domain.tokens import token_by_symbol

Key = tuple[str, str, int]
POLL_S = 0.04
GRACE_SLOTS = 4  # slots watched after the last move, so late fires are counted


class Observer:
    def __init__(self, url: str, keys: list[Key]) -> None:
        self._client = httpx.AsyncClient(base_url=url, timeout=10)
        self._directions: dict[tuple[str, str], list[int]] = {}
        for token_in, token_out, amount in keys:
            self._directions.setdefault((token_in, token_out), []).append(amount)
        self.outs: dict[int, dict[Key, int]] = {}
        self.seen_at: dict[int, datetime] = {}
        self.ready_slot = 0  # the first slot measured (every order armed by then)

    async def look(self) -> int:
        """One quote of every (direction, amount); the latest slot seen."""
        slots = await asyncio.gather(*(self._ladder(*d) for d in self._directions))
        return max(slots)

    async def _ladder(self, token_in: str, token_out: str) -> int:
        amounts = self._directions[(token_in, token_out)]
        body = {
            "inputMint": token_by_symbol(token_in).mint,
            "outputMint": token_by_symbol(token_out).mint,
            "amounts": amounts,
        }
        reply = (await self._client.post("/quote/ladder", json=body)).json()
        slot = int(reply["contextSlot"])
        self.seen_at.setdefault(slot, datetime.now(UTC))
        outs = self.outs.setdefault(slot, {})
        for index, amount in enumerate(amounts):
            best = max(
                int(pool["quotes"][index]["outAmount"]) if not pool["quotes"][index].get("error")
                else 0
                for pool in reply["pools"]
            )  # fmt: skip
            outs[(token_in, token_out, amount)] = best
        return slot

    async def watch(
        self,
        slots: int,
        move_bps: int,
        pairs: dict[tuple[str, str], str],
        pid: int,
        ready: asyncio.Event,
    ) -> float:
        """Observe every slot; once `ready`, `slots` more, moving every pair by
        `move_bps` on each (up for the first half, down after), then a few more. The
        evaluator's peak RSS (MiB) from `ready` on."""
        last = await self.look()
        moved, peak = 0, 0.0
        while moved < slots + GRACE_SLOTS:
            await asyncio.sleep(POLL_S)
            slot = await self.look()
            if not ready.is_set():
                last = max(last, slot)
                continue
            self.ready_slot = self.ready_slot or slot
            peak = max(peak, rss_mib(pid))
            for _ in range(slot - last):
                moved += 1
                if moved <= slots:
                    bps = move_bps if moved <= slots // 2 else -move_bps
                    await asyncio.gather(*(self._move(pair, bps) for pair in pairs.values()))
            last = max(last, slot)
        return peak

    async def _move(self, pair: str, bps: int) -> None:
        body = {"jsonrpc": "2.0", "id": 1, "method": "simulator_movePrice",
                "params": [{"pair": pair, "bps": bps}]}  # fmt: skip
        reply = (await self._client.post("/", json=body)).json()
        assert "result" in reply, reply

    async def close(self) -> None:
        await self._client.aclose()


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0

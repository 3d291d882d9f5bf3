"""The figures of each benchmark's printed output, each next to the baseline it is
measured against (the raw store, the naive reader, a single order alone, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = r"([\d,]+(?:\.\d+)?)"


@dataclass(frozen=True)
class Figure:
    benchmark: str
    name: str
    value: str
    workload: str
    baseline: str
    ratio: str


def _find(pattern: str, text: str) -> tuple[str, ...] | None:
    match = re.search(pattern.replace("{N}", NUMBER), text)
    return match.groups() if match else None


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _ratio(value: float, baseline: float) -> str:
    return f"{100 * value / baseline:.0f} %" if baseline else "n/a"


def figures_of(name: str, output: str) -> list[Figure]:
    """Every figure found in `output` of `bench.<name>`; none when it did not finish."""
    return {
        "submit": _submit,
        "e2e": _e2e,
        "ws_fanout": _ws_fanout,
        "replay_rate": _replay,
        "global_log_load": _global_log,
    }[name](output)


def _submit(out: str) -> list[Figure]:
    api = _find(r"api: {N} accepted orders/s, p50 {N} ms, p99 {N} ms", out)
    raw = _find(r"raw event store append: {N} appends/s, p50 {N} ms, p99 {N} ms", out)
    work = _find(r"workload: (.*)", out)
    if not (api and raw and work):
        return []
    workload = work[0].replace("|", "/")
    base = f"raw event store append, same run: {raw[0]} appends/s"
    raw_latency = f"raw append p50 / p99: {raw[1]} / {raw[2]} ms"
    return [
        Figure("submit", "accepted orders/s", api[0], workload, base,
               _ratio(_num(api[0]), _num(raw[0]))),
        Figure("submit", "submit latency p50 / p99", f"{api[1]} / {api[2]} ms", workload,
               raw_latency, _ratio(_num(api[2]), _num(raw[2]))),
    ]  # fmt: skip


def _e2e(out: str) -> list[Figure]:
    instant = _find(
        r"time scale 0, (.*?): {N} orders \({N} confirmed\) final in {N} s = {N} orders/s;"
        r" submit-to-final p50 {N} ms, p99 {N} ms",
        out,
    )
    figures = []
    if instant:
        setup, orders, confirmed, _, rate, p50, p99 = instant
        workload = f"{orders} market orders at once, instant venue, {setup}"
        share = _ratio(_num(confirmed), _num(orders))
        base = f"orders submitted ({confirmed} confirmed)"
        figures.append(Figure("e2e", "orders final/s (instant venue)", rate, workload, base, share))
        latency = f"{p50} / {p99} ms"
        figures.append(Figure("e2e", "submit-to-final p50 / p99", latency, workload, "-", "-"))
    single = _find(
        r"400 ms slots, one order at a time \({N} orders\): submit-to-final p50 {N} ms", out
    )
    times = _find(r"all final after {N} s \(median of {N} rounds\) = {N} x", out)
    burst = _find(r"400 ms slots, {N} at once \(round 1\)", out)
    if single and burst and times:
        figures.append(Figure("e2e", "all final after (400 ms slots)", f"{times[0]} s",
                              f"{burst[0]} market orders at once, 400 ms slots,"
                              f" median of {times[1]} bursts",
                              f"one order alone: p50 {single[1]} ms of {single[0]}",
                              f"{times[2]} x"))  # fmt: skip
    chain_single = _find(
        r"chain alone, one transaction at a time \({N}\): confirmed after p50 {N} ms", out
    )
    chain = _find(r"chain alone, {N} at once: all confirmed after {N} s .*?= {N} x", out)
    if chain_single and chain:
        figures.append(Figure("e2e", "chain alone: all confirmed after", f"{chain[1]} s",
                              f"{chain[0]} swaps sent straight to the simulator at once,"
                              " no engine (the floor)",
                              f"one swap alone: p50 {chain_single[1]} ms of {chain_single[0]}",
                              f"{chain[2]} x"))  # fmt: skip
    return figures


def _ws_fanout(out: str) -> list[Figure]:
    delivered = _find(r"{N} clients: {N} of {N} live events delivered", out)
    latency = _find(r"commit -> client: p50 {N} ms  p90 {N} ms  p99 {N} ms", out)
    if not (delivered and latency):
        return []
    clients, got, sent = delivered
    workload = f"{clients} WebSocket clients, one order each, lifecycle events appended"
    delivered_share = f"{_ratio(_num(got), _num(sent))} delivered"
    return [
        Figure("ws_fanout", "commit -> client p50 / p99", f"{latency[0]} / {latency[2]} ms",
               workload, f"live events committed: {sent}", delivered_share),
    ]  # fmt: skip


def _replay(out: str) -> list[Figure]:
    raw = _find(r"raw read of the log .*?: {N} events/s", out)
    replay = _find(r"replay: {N} events -> {N} orders in {N} s = {N} events/s", out)
    verify = _find(r"replay --verify: {N} events -> {N} orders in {N} s = {N} events/s", out)
    if not (raw and replay):
        return []
    workload = f"{replay[0]} events of {replay[1]} market orders"
    base = f"raw read_all of the log: {raw[0]} events/s"
    share = _ratio(_num(replay[3]), _num(raw[0]))
    figures = [Figure("replay_rate", "replay events/s", replay[3], workload, base, share)]
    if verify:
        figures.append(Figure("replay_rate", "replay --verify events/s", verify[3], workload, base,
                              _ratio(_num(verify[3]), _num(raw[0]))))  # fmt: skip
    return figures


def _global_log(out: str) -> list[Figure]:
    protocol = _find(r"protocol .*?: committed={N} lost={N} \({N} %\) duplicated={N}", out)
    naive = _find(r"naive .*?: committed={N} lost={N} \({N} %\) duplicated={N}", out)
    if not (protocol and naive):
        return []
    workload = f"concurrent writers, {protocol[0]} events, one reader following the log"
    return [
        Figure("global_log_load", "events missed by the protocol reader", protocol[1], workload,
               f"naive `global_position > last` reader: {naive[1]} missed ({naive[2]} %)",
               _ratio(_num(protocol[1]), _num(naive[1]))),
    ]  # fmt: skip


def latencies_of(outputs: dict[str, tuple[list[str], str]]) -> list[tuple[str, float, float]]:
    """(label, p50 ms, p99 ms) of every latency the runs printed, for the plot."""
    patterns = [
        ("submit", "SUBMIT VIA API", r"api: {N} accepted orders/s, p50 {N} ms, p99 {N} ms", 1),
        ("submit", "RAW APPEND", r"raw event store append: {N} appends/s, p50 {N} ms, p99 {N} ms",
         1),
        ("e2e", "SUBMIT TO FINAL", r"time scale 0.*?submit-to-final p50 {N} ms, p99 {N} ms", 0),
        ("e2e", "SAME, 400 MS SLOTS",
         r"slots, {N} at once \(round 1\): .*?p50 {N} ms, p99 {N} ms", 1),
        ("ws_fanout", "COMMIT TO WS CLIENT",
         r"commit -> client: p50 {N} ms  p90 {N} ms  p99 {N} ms", 0),
    ]  # fmt: skip
    rows = []
    for name, label, pattern, first in patterns:
        found = _find(pattern, outputs.get(name, ([], ""))[1])
        if found:
            p99_index = first + (2 if name == "ws_fanout" else 1)
            rows.append((label, _num(found[first]), _num(found[p99_index])))
    return rows

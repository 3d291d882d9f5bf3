"""The benchmarks' results: distributions keep exact percentiles and an ECDF, results
survive their JSON round trip by type, and the report is made from them alone."""

from __future__ import annotations

import msgspec
import pytest

from bench.e2e_result import Burst, ChainAlone, E2eResult, InstantRun, RealisticRun
from bench.idle import IdleResult, ProcessCost
from bench.measures import QUANTILE_STEPS, Distribution, Throughput
from bench.report import Report, Run, markdown
from bench.soak import ProcessMemory, SoakResult, warm_up_seconds


def test_a_distribution_keeps_nearest_rank_percentiles_and_its_quantiles() -> None:
    distribution = Distribution.of_ms([float(n) for n in range(100, 0, -1)])
    assert (distribution.count, distribution.p50_ms, distribution.p99_ms) == (100, 51.0, 100.0)
    assert distribution.max_ms == 100.0
    assert len(distribution.quantiles_ms) == QUANTILE_STEPS + 1
    assert distribution.quantiles_ms[0] == 1.0
    assert distribution.quantiles_ms[-1] == 100.0
    assert distribution.quantiles_ms == sorted(distribution.quantiles_ms)


def test_throughput_counts_each_operation_in_the_bin_it_ended_in() -> None:
    series = Throughput.of_offsets("burst", [0.0, 0.05, 0.1, 0.35], bin_s=0.1)
    assert series.counts == [2, 1, 0, 1]


def _burst(title: str, offsets: list[float]) -> Burst:
    rows = [(offset, 100.0, 100.0 + offset, "OrderConfirmed") for offset in offsets]
    return Burst.of_rows(title, rows)


def _e2e() -> E2eResult:
    instant = InstantRun(2, 16, [], [], _burst("time scale 0", [0.5, 1.0, 2.0]))
    chain = ChainAlone(burst=3, alone_s=[1.0, 1.2, 1.4], spans_s=[3.0])
    realistic = RealisticRun([1.0, 1.1, 1.2], [_burst("400 ms slots", [1.0, 2.0, 4.4])], chain)
    return E2eResult(instant, realistic)


def test_a_result_survives_its_json_round_trip_with_its_figures() -> None:
    result = _e2e()
    decoded = msgspec.json.decode(msgspec.json.encode(result), type=E2eResult)
    assert decoded == result
    figures = {figure.name: figure for figure in decoded.figures()}
    assert figures["orders final/s (instant venue)"].value == "2"  # 3 orders in 1.5 s
    assert figures["all final after (400 ms slots)"].value == "4.40 s"
    assert figures["all final after (400 ms slots)"].ratio == "4.00 x"  # 4.4 s / 1.1 s
    assert figures["chain alone: all confirmed after"].ratio == "2.50 x"


def test_the_report_is_made_from_results_and_names_the_runs_that_failed() -> None:
    runs = {"e2e": Run(["--orders", "3"], "printed", 0), "submit": Run([], "", 1)}
    report = Report.made("python -m bench", runs, {"e2e": _e2e()})
    text = markdown(report)
    assert "| e2e | all final after (400 ms slots) | 4.40 s |" in text
    assert "`submit` (exit status 1)" in text
    encoded = msgspec.json.decode(msgspec.json.encode(report))
    assert encoded["results"]["e2e"]["realistic"]["chain"]["spans_s"] == [3.0]


def test_the_idle_result_sums_by_role_and_compares_with_the_goals() -> None:
    processes = [
        ProcessCost("worker", 1, 4.0, 80.0),
        ProcessCost("worker", 2, 5.0, 80.0),
        ProcessCost("postgres", 3, 1.5, 15.0),
        ProcessCost("redis", 4, 0.5, 4.0),
    ]
    result = IdleResult(60.0, True, processes, 16, 10.0, 12.0, {"lpop": 12.0})
    decoded = msgspec.json.decode(msgspec.json.encode(result), type=IdleResult)
    assert decoded == result
    assert decoded.total_cpu() == 11.0
    assert decoded.total_cpu("worker") == 9.0
    figures = {figure.name: figure for figure in decoded.figures()}
    assert figures["CPU, every process together (% of one core)"].ratio == "1100 %"
    assert figures["CPU, the engine's own processes"].value == "9.0 %"
    assert figures["PostgreSQL connections held"].ratio == "200 %"
    assert figures["PostgreSQL transactions/s"].value == "10.0"


def test_a_soak_result_reports_its_promises_and_the_largest_rss_growth() -> None:
    memory = [ProcessMemory("api", 100.0, 110.0), ProcessMemory("worker", 200.0, 250.0)]
    result = SoakResult(
        minutes=2,
        rate=100,
        hostile="lag:3",
        orders=12_000,
        confirmed=11_990,
        lost=0,
        double_executions=0,
        restarts=1,
        refusals=0,
        latency=Distribution.of_ms([900.0, 1_000.0, 3_000.0]),
        memory=memory,
        final_offsets_s=[0.5, 1.5, 1.6],
        warm_up_s=60.0,
    )
    decoded = msgspec.json.decode(msgspec.json.encode(result), type=SoakResult)
    assert decoded == result
    figures = {figure.name: figure.value for figure in decoded.figures()}
    assert figures["unplanned restarts"] == "1"
    assert figures["largest RSS growth"] == "+25 %"  # the worker's 200 -> 250 MB
    assert decoded.throughput()[0].counts == [1, 2]
    assert "worker: RSS 200 MB after the 60 s warm-up, 250 MB at the end (+25 %)" in (
        "\n".join(decoded.lines())
    )


def test_a_soak_reads_its_start_rss_once_the_chain_holds_a_full_window() -> None:
    # 246 slots of 400 ms: a transaction's longest life in the chain's memory, twice.
    assert warm_up_seconds(30 * 60, time_scale=1.0) == pytest.approx(196.8)
    assert warm_up_seconds(120, time_scale=1.0) == 60  # a short run keeps its second half
    assert warm_up_seconds(30 * 60, time_scale=0.0) == 180  # no slot pace: a tenth

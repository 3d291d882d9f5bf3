"""The `__main__` of every benchmark: parse, run, print from the result, and with
`--result-json PATH` also write the result for `python -m bench`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import msgspec

R = TypeVar("R")


def run_benchmark(
    parser: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], R],
    show: Callable[[R], None],
) -> None:
    parser.add_argument("--result-json", type=Path, help="also write the result here, as JSON")
    args = parser.parse_args()
    result = run(args)
    show(result)
    if args.result_json:
        args.result_json.write_bytes(msgspec.json.encode(result))

"""Progress bars (rich) on stderr, for `orderengine replay` and the long benchmarks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# Called with (done so far, total).
Advance = Callable[[int, int], None]


@contextmanager
def progress_bar(description: str, unit: str) -> Iterator[Advance]:
    """A bar of `unit`s done out of a total, redrawn by rich at most ten times a second
    (drawn once, at the end, when stderr is not a terminal)."""
    with progress_bars((description, unit)) as (advance,):
        yield advance


@contextmanager
def progress_bars(*bars: tuple[str, str]) -> Iterator[tuple[Advance, ...]]:
    """One bar per (description, unit), drawn together; a bar not advanced yet shows
    nothing done."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        tasks = [
            progress.add_task(description, total=None, unit=unit) for description, unit in bars
        ]

        def advancing(task: TaskID) -> Advance:
            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return advance

        yield tuple(advancing(task) for task in tasks)

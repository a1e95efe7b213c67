"""Grading a stream of rows into a results file, in order, in memory that stays flat.

Two ways through, chosen by what the grader waits on:
  - in batches (string_check, text_similarity, python, and multi graders of those that run in
    process): rows are read a chunk at a time (1,000 rows or 16 MB, whichever comes first), graded with
    `grade_many` — a python grader's chunk goes to the sandbox's warm workers at once — and written;
  - one row at a time, many in flight (score_model and label_model anywhere in the grader, and multi
    graders holding a python grader): `arun` on each row, a window of rows in flight (the model
    backend's concurrency limit bounds the calls), each row written in its turn.

Either way rows are written in data order and synced after each chunk (or second), so that a run
stopped at any moment leaves whole rows, and `--resume` continues after the last one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine.compiled import CompiledGrader
from ..engine.errors import EngineError
from .results import (
    PlainLines,
    ResultWriter,
    ResumeRefused,
    compared_row,
    dumps,
    is_plain,
    response_data,
    result_row,
)
from .rows import Row, RowReader
from .summary import Comparison, Summary

CHUNK_ROWS = 1000
CHUNK_BYTES = 16 << 20
FLUSH_SECONDS = 1.0
MODEL_KINDS = frozenset({"score_model", "label_model"})


def kinds_in(grader: Mapping[str, Any]) -> set[str]:
    """Every grader type in a grader, its sub-graders' included."""
    found = {str(grader.get("type"))}
    subs = grader.get("graders")
    if isinstance(subs, Mapping):
        for sub in subs.values():
            if isinstance(sub, Mapping):
                found |= kinds_in(sub)
    return found


def one_at_a_time(grader: Mapping[str, Any]) -> bool:
    """Whether rows go through `arun`, many in flight, rather than in batches."""
    kinds = kinds_in(grader)
    return bool(kinds & MODEL_KINDS) or (grader.get("type") == "multi" and "python" in kinds)


@dataclass
class Tally:
    """How far a run has come, for a progress display."""

    rows: int = 0
    """Rows written (and, while continuing, rows found written before)."""
    resumed: int = 0
    position: int = 0
    total: int | None = None
    """How far the data goes, in the reader's unit (bytes, or Parquet rows); None when unknown (a pipe)."""
    problems: int = 0
    """Rows that set a flag or could not be read."""
    tokens: int = 0
    finished: bool = False


Progress = Callable[[Tally], None]


@dataclass
class Job:
    graders: Sequence[CompiledGrader]
    """One grader, or the old and the new one of a comparison."""
    rows: RowReader
    writer: ResultWriter
    timings: bool = False
    window: int = 64
    """Rows in flight at once on the one-at-a-time path."""
    chunk_rows: int = CHUNK_ROWS
    chunk_bytes: int = CHUNK_BYTES
    progress: Progress | None = None
    summary: Summary | Comparison = field(init=False)
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        self.summary = Comparison() if len(self.graders) == 2 else Summary()
        self._plain = PlainLines(self.graders[0].name, self.graders[0].kind)

    # ------------------------------------------------------------------ the run
    def run(self) -> Summary | Comparison:
        rows = iter(self.rows)
        self._skip_written(rows)
        self.writer.open()
        if any(one_at_a_time(g.grader) for g in self.graders):
            asyncio.run(self._one_at_a_time(rows))
        else:
            self._in_batches(rows)
        self.tally.finished = True
        self._report()
        return self.summary

    def _report(self) -> None:
        if self.progress is not None:
            summary = self.summary
            single = summary.new if isinstance(summary, Comparison) else summary
            tokens = single.total_tokens + (
                summary.old.total_tokens if isinstance(summary, Comparison) else 0
            )
            self.tally.position = self.rows.position
            self.tally.total = self.rows.total
            self.tally.problems = single.flagged_rows + single.unreadable
            self.tally.tokens = tokens
            self.progress(self.tally)

    def _skip_written(self, rows: Iterator[Row]) -> None:
        """Continuing: each row written before is checked against its data row, and summarised."""
        for written in self.writer.existing():
            row = next(rows, None)
            if row is None:
                raise ResumeRefused(
                    f"--resume: {self.writer.out} has more rows than the data ({written['index'] + 1} or "
                    "more); the data changed since the run started"
                )
            if written.get("id") != row.id:
                raise ResumeRefused(
                    f"--resume: row {row.index} of {self.writer.out} has id {written.get('id')!r} but "
                    f"{row.where} has id {row.id!r}; the data changed since the run started"
                )
            self.summary.add_row(written)
            self.tally.rows += 1
            self.tally.resumed += 1
            if self.tally.rows % 10_000 == 0:
                self._report()

    def _flush(self, lines: list[str]) -> None:
        if lines:
            self.writer.write("\n".join(lines) + "\n")
            self.tally.rows += len(lines)
            lines.clear()
            self._report()

    # ------------------------------------------------------------------ batches
    def _in_batches(self, rows: Iterable[Row]) -> None:
        for chunk in chunks(rows, self.chunk_rows, self.chunk_bytes):
            lines = self._grade_chunk(chunk)
            self._flush(lines)

    def _grade_chunk(self, chunk: list[Row]) -> list[str]:
        good = [row for row in chunk if row.error is None]
        samples = [row.sample for row in good]
        items = [row.item for row in good]
        graded = []
        for grader in self.graders:
            started = time.perf_counter()
            results = grader.grade_many(samples, items)
            each = (time.perf_counter() - started) / max(1, len(good))
            graded.append((grader, results, each))
        lines: list[str] = []
        position = 0
        for row in chunk:
            if row.error is not None:
                lines.append(self._unreadable(row))
                continue
            outcomes = [(grader, results.outcome(position), each) for grader, results, each in graded]
            position += 1
            if len(outcomes) == 1:
                grader, outcome, each = outcomes[0]
                if is_plain(outcome):
                    time_text = float.__repr__(each) if self.timings else "0.0"
                    lines.append(self._plain.line(row.index, dumps(row.id), outcome.reward, time_text))
                    assert isinstance(self.summary, Summary)
                    self.summary.add_plain(row.index, row.id, outcome.reward)
                    continue
            responses = [
                response_data(outcome.response(grader.name, grader.kind, each), self.timings)
                for grader, outcome, each in outcomes
            ]
            lines.append(self._graded(row, responses, None))
        return lines

    def _unreadable(self, row: Row) -> str:
        assert row.error is not None
        if isinstance(self.summary, Comparison):
            result = compared_row(row.index, row.id, None, None, row.error)
        else:
            result = result_row(row.index, row.id, None, row.error)
        self.summary.add_row(result)
        return dumps(result)

    def _graded(self, row: Row, responses: list[dict[str, Any]], seconds: float | None) -> str:
        if isinstance(self.summary, Comparison):
            result = compared_row(row.index, row.id, responses[0], responses[1])
            self.summary.add_row(result)
        else:
            result = result_row(row.index, row.id, responses[0])
            self.summary.add_response(row.index, row.id, responses[0], seconds)
        return dumps(result)

    # ------------------------------------------------------------------ one at a time
    async def _one_row(self, row: Row) -> tuple[list[Any], float]:
        started = time.perf_counter()
        responses = await asyncio.gather(*(g.arun(row.sample, row.item) for g in self.graders))
        return list(responses), time.perf_counter() - started

    async def _one_at_a_time(self, rows: Iterator[Row]) -> None:
        window: deque[tuple[Row, asyncio.Task[tuple[list[Any], float]] | None]] = deque()
        lines: list[str] = []
        flushed = time.monotonic()

        def fill() -> None:
            while len(window) < self.window:
                row = next(rows, None)
                if row is None:
                    return
                task = asyncio.ensure_future(self._one_row(row)) if row.error is None else None
                window.append((row, task))

        try:
            fill()
            while window:
                row, task = window[0]
                if task is None:
                    lines.append(self._unreadable(row))
                else:
                    responses, seconds = await task
                    data = [response_data(r, self.timings) for r in responses]
                    lines.append(self._graded(row, data, seconds))
                window.popleft()
                fill()
                if len(lines) >= self.chunk_rows or time.monotonic() - flushed >= FLUSH_SECONDS:
                    self._flush(lines)
                    flushed = time.monotonic()
            self._flush(lines)
        except BaseException:
            if not self.writer.broken:
                self._flush(lines)  # every row already graded in turn is kept
            for _, pending in window:
                if pending is not None:
                    pending.cancel()
            raise


def chunks(rows: Iterable[Row], max_rows: int, max_bytes: int) -> Iterator[list[Row]]:
    """Rows in chunks of at most `max_rows` rows, closed early once they hold `max_bytes` of data."""
    chunk: list[Row] = []
    size = 0
    for row in rows:
        chunk.append(row)
        size += row.size
        if len(chunk) >= max_rows or size >= max_bytes:
            yield chunk
            chunk = []
            size = 0
    if chunk:
        yield chunk


__all__ = ["EngineError", "Job", "Tally", "chunks", "kinds_in", "one_at_a_time"]

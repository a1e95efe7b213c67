"""Big JSONL inputs on every CPU: the lines are cut into chunks that forked workers check.

The workers inherit the input and the validator from the parent (fork), so nothing is copied to them
and only the problems travel back. Forking is used only where it is safe and pays: on systems that
have it, in a process with a single thread, for inputs of a few thousand lines or more.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Any

from .check import Validator
from .document import Unreadable, decode, too_large
from .json_text import parse_jsonl
from .problem import Problem
from .run import Report, check_documents

MIN_LINES = 4000
"""Below this, starting workers costs more than it saves."""
CHUNKS_PER_JOB = 4

_shared: tuple[bytes | str, Validator, bool, int] | None = None
"""The input and settings, set in the parent just before it forks."""


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def jobs_for(requested: int) -> int:
    """`requested` workers, 0 meaning one per CPU."""
    return cpu_count() if requested <= 0 else requested


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def check_jsonl(
    data: bytes | str, name: str, validator: Validator, strict: bool, limit: int, jobs: int
) -> Report | None:
    """The report of a JSONL input checked by `jobs` workers, or None when that would not pay."""
    newline: Any = b"\n" if isinstance(data, bytes) else "\n"
    if jobs <= 1 or not can_fork() or data.count(newline) < MIN_LINES:
        return None
    chunks = _chunks(data, jobs * CHUNKS_PER_JOB)
    global _shared
    _shared = (data, validator, strict, limit)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_check_chunk, chunks, chunksize=1)
    finally:
        _shared = None
    report = Report(name)
    for documents, problems in results:
        report.documents += documents
        report.problems.extend(problems)
    return report


def _chunks(data: bytes | str, count: int) -> list[tuple[int, int, int]]:
    """(start, end, number of the first line) of `count` runs of whole lines."""
    newline: Any = b"\n" if isinstance(data, bytes) else "\n"
    out: list[tuple[int, int, int]] = []
    start, line = 0, 1
    step = max(1, len(data) // count)
    while start < len(data):
        cut = data.find(newline, start + step)
        end = len(data) if cut == -1 else cut + 1
        out.append((start, end, line))
        line += data.count(newline, start, end)
        start = end
    return out


def check_lines(data: bytes | str, name: str, validator: Validator, strict: bool, limit: int) -> Report:
    """The report of a JSONL input held in memory, in this process."""
    report = Report(name)
    check_documents(report, parse_jsonl(_lines(data, 0, len(data), 1, limit, report)), validator, strict)
    return report


def _check_chunk(chunk: tuple[int, int, int]) -> tuple[int, list[Problem]]:
    assert _shared is not None, "a worker runs only in a forked child"
    data, validator, strict, limit = _shared
    start, end, first = chunk
    report = Report("")
    check_documents(report, parse_jsonl(_lines(data, start, end, first, limit, report)), validator, strict)
    return report.documents, report.problems


def _lines(data: bytes | str, start: int, end: int, first: int, limit: int, report: Report) -> Any:
    part = data[start:end]
    pieces = part.split(b"\n") if isinstance(part, bytes) else part.split("\n")
    for number, piece in enumerate(pieces, first):
        if len(piece) > limit:
            report.documents += 1
            exc = too_large(len(piece), limit)
            report.add_unreadable(Unreadable(exc.message, number, 1, exc.hint))
            continue
        if isinstance(piece, bytes):
            try:
                yield number, decode(piece, number)
            except Unreadable as exc:
                report.documents += 1
                report.add_unreadable(exc)
        else:
            yield number, piece

"""Big JSONL inputs on every CPU: the input is cut into parts of whole lines that forked workers check.

The workers inherit the validator from the parent (fork), so only the problems travel back. A text
(the library's validate_text) is shared with them as it is; a file is not read by the parent at all:
each worker opens it and reads its own byte range, a line at a time, so memory stays bounded however
big the file is. Forking is used only where it is safe and pays: on systems that have it, in a
process with a single thread, for inputs of a few thousand lines or a few MiB or more.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Any

from .check import Validator
from .document import Unreadable, too_large
from .json_text import parse_jsonl
from .problem import Problem
from .run import Report, check_documents
from .streams import SKIP_CHUNK, JsonlLines, open_regular, skip_line

MIN_LINES = 4000
"""Below this, starting workers costs more than it saves."""
MIN_BYTES = 2 * 2**20
"""The same, for a file, whose lines are not counted before it is cut."""
CHUNKS_PER_JOB = 4

_shared: tuple[Any, Validator, bool, int] | None = None
"""The input (a text, or a file's path) and settings, set in the parent just before it forks."""


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


# --------------------------------------------------------------------------- a text in memory
def check_jsonl(
    text: str, name: str, validator: Validator, strict: bool, limit: int, jobs: int
) -> Report | None:
    """The report of a JSONL text checked by `jobs` workers, or None when that would not pay."""
    if jobs <= 1 or not can_fork() or text.count("\n") < MIN_LINES:
        return None
    global _shared
    _shared = (text, validator, strict, limit)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_check_chunk, _chunks(text, jobs * CHUNKS_PER_JOB), chunksize=1)
    finally:
        _shared = None
    report = Report(name)
    for documents, problems in results:
        report.documents += documents
        report.problems.extend(problems)
    return report


def _chunks(text: str, count: int) -> list[tuple[int, int, int]]:
    """(start, end, number of the first line) of `count` runs of whole lines."""
    out: list[tuple[int, int, int]] = []
    start, line = 0, 1
    step = max(1, len(text) // count)
    while start < len(text):
        cut = text.find("\n", start + step)
        end = len(text) if cut == -1 else cut + 1
        out.append((start, end, line))
        line += text.count("\n", start, end)
        start = end
    return out


def _check_chunk(chunk: tuple[int, int, int]) -> tuple[int, list[Problem]]:
    assert _shared is not None, "a worker runs only in a forked child"
    text, validator, strict, limit = _shared
    start, end, first = chunk
    report = Report("")
    check_documents(report, parse_jsonl(_lines(text, start, end, first, limit, report)), validator, strict)
    return report.documents, report.problems


def _lines(text: str, start: int, end: int, first: int, limit: int, report: Report) -> Any:
    for number, piece in enumerate(text[start:end].split("\n"), first):
        if len(piece) > limit:
            report.documents += 1
            exc = too_large(len(piece), limit)
            report.add_unreadable(Unreadable(exc.message, number, 1, exc.hint))
            continue
        yield number, piece


# --------------------------------------------------------------------------- a file, read by the workers
def check_jsonl_file(
    path: str, size: int, validator: Validator, strict: bool, limit: int, jobs: int
) -> Report | None:
    """The report of a JSONL file checked by `jobs` workers, or None when that would not pay. The
    workers first count the newlines of their ranges, so that each knows the number of its first line."""
    if jobs <= 1 or not can_fork() or size < MIN_BYTES:
        return None
    count = jobs * CHUNKS_PER_JOB
    ranges = [(size * k // count, size * (k + 1) // count) for k in range(count)]
    global _shared
    _shared = (path, validator, strict, limit)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            newlines = pool.map(_count_newlines, ranges, chunksize=1)
            before = [sum(newlines[:k]) for k in range(count)]
            parts = [(start, end, before[k]) for k, (start, end) in enumerate(ranges)]
            results = pool.map(_check_range, parts, chunksize=1)
    finally:
        _shared = None
    report = Report(path)
    for documents, problems in results:
        report.documents += documents
        report.problems.extend(problems)
    return report


def _count_newlines(part: tuple[int, int]) -> int:
    assert _shared is not None, "a worker runs only in a forked child"
    start, end = part
    newlines = 0
    with open_regular(_shared[0]) as stream:
        stream.seek(start)
        while start < end:
            chunk = stream.read(min(SKIP_CHUNK, end - start))
            if not chunk:
                break
            newlines += chunk.count(b"\n")
            start += len(chunk)
    return newlines


def _check_range(part: tuple[int, int, int]) -> tuple[int, list[Problem]]:
    """Check the lines that start in [start, end) of the file, `newlines` being how many newlines
    come before `start`: (documents, problems)."""
    assert _shared is not None, "a worker runs only in a forked child"
    path, validator, strict, limit = _shared
    start, end, newlines = part
    report = Report("")
    try:
        with open_regular(path) as stream:
            if start > 0:
                stream.seek(start - 1)
                if stream.read(1) != b"\n":  # in a line that began in a range before: not ours
                    skip_line(stream, until=end)
                    newlines += 1
            lines = JsonlLines(stream, limit, report, skippable=True, end=end, first=newlines + 1)
            check_documents(report, parse_jsonl(lines), validator, strict)
    except (OSError, Unreadable) as exc:  # the file changed under us
        message = exc.message if isinstance(exc, Unreadable) else f"cannot read: {exc.strerror or exc}"
        report.add_unreadable(Unreadable(message))
    return report.documents, report.problems

"""Where grader files come from: paths, directories, standard input and --grader text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from . import parallel
from .check import Validator
from .document import Unreadable, decode
from .json_text import parse_jsonl
from .load import format_of, sniff
from .run import Report, check_documents, check_text
from .streams import JsonlLines, is_regular, open_regular, read_capped

EXTENSIONS = (".json", ".jsonl", ".ndjson", ".yaml", ".yml")


def expand(paths: list[str]) -> Iterator[str | Report]:
    """Files as given, and the grader files under directories (hidden ones skipped), sorted; a
    directory that cannot be listed is a report of its own, in its place."""
    for p in paths:
        if p != "-" and os.path.isdir(p):
            yield from _walk(p)
        else:
            yield p


def _walk(top: str) -> list[str | Report]:
    found: list[tuple[str, Report | None]] = []

    def unlisted(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else top
        found.append((where, _cannot_read(where, exc, "cannot read directory")))

    for root, dirs, files in os.walk(top, onerror=unlisted):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend((os.path.join(root, f), None) for f in files if f.lower().endswith(EXTENSIONS))
    return [path if report is None else report for path, report in sorted(found, key=lambda e: e[0])]


def _cannot_read(name: str, exc: OSError, what: str = "cannot read") -> Report:
    report = Report(name)
    reason = exc.strerror or str(exc)
    report.add_unreadable(Unreadable(f"{what}: {reason[:1].lower()}{reason[1:]}"))
    return report


def check_stream(
    name: str, stream: BinaryIO, fmt: str | None, validator: Validator, strict: bool, limit: int
) -> Report:
    """Check what a stream holds, reading at most one document (`limit` bytes) at a time."""
    fmt = fmt or format_of(name)
    if fmt == "jsonl":
        report = Report(name)
        lines = JsonlLines(stream, limit, report, skippable=is_regular(stream))
        check_documents(report, parse_jsonl(lines), validator, strict)
        if report.documents == 0:
            report.add_unreadable(Unreadable("empty: expected one grader per line"))
        return report
    try:
        text = decode(read_capped(stream, limit))
    except Unreadable as exc:
        report = Report(name)
        report.add_unreadable(exc)
        return report
    return check_text(text, name, fmt or (sniff(text) if text.strip() else "json"), strict, validator, limit)


def check_path(
    path: str, fmt: str | None, validator: Validator, strict: bool, limit: int, jobs: int = 1
) -> Report:
    """Check a regular file; anything else (a FIFO, a device, a socket) is refused unread. A big
    JSONL file is checked by `jobs` processes (0: one per CPU), each reading its own part."""
    try:
        stream = open_regular(path)
    except Unreadable as exc:
        report = Report(path)
        report.add_unreadable(exc)
        return report
    except OSError as exc:
        return _cannot_read(path, exc)
    with stream:
        if (fmt or format_of(path)) == "jsonl" and jobs != 1:
            size = os.fstat(stream.fileno()).st_size
            checked = parallel.check_jsonl_file(path, size, validator, strict, limit, parallel.jobs_for(jobs))
            if checked is not None:
                return checked
        try:
            return check_stream(path, stream, fmt, validator, strict, limit)
        except OSError as exc:
            return _cannot_read(path, exc)

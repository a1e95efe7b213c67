"""Where grader files come from: paths, directories, standard input and --grader text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from . import parallel
from .check import Validator
from .document import Unreadable, decode, too_large
from .json_text import parse_jsonl
from .load import format_of, sniff
from .run import Report, check_documents, check_text

EXTENSIONS = (".json", ".jsonl", ".ndjson", ".yaml", ".yml")


def expand(paths: list[str]) -> Iterator[str]:
    """Files as given, and the grader files under directories (hidden ones skipped), sorted."""
    for p in paths:
        if p != "-" and os.path.isdir(p):
            found: list[str] = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, f) for f in files if f.lower().endswith(EXTENSIONS))
            yield from sorted(found)
        else:
            yield p


def _read_capped(stream: BinaryIO, limit: int) -> bytes:
    try:
        size: int | None = os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, AttributeError):  # a pipe or an in-memory stream
        size = None
    if size is not None and size > limit:
        raise too_large(size, limit)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(None, limit)
    return data


def _jsonl_lines(stream: BinaryIO, limit: int, report: Report) -> Iterator[tuple[int, str]]:
    """Each line of a JSONL stream, decoded; a line that is too long or not text is reported and skipped."""
    number = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            size = len(raw)
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(1 << 20)
                size += len(raw)
            report.documents += 1
            report.add_unreadable(_with_line(too_large(size, limit), number))
            continue
        try:
            yield number, decode(raw, number)
        except Unreadable as exc:
            report.documents += 1
            report.add_unreadable(exc)


def _with_line(exc: Unreadable, line: int) -> Unreadable:
    return Unreadable(exc.message, line, 1, exc.hint)


def check_stream(
    name: str,
    stream: BinaryIO,
    fmt: str | None,
    validator: Validator,
    strict: bool,
    limit: int,
    jobs: int = 1,
) -> Report:
    fmt = fmt or format_of(name)
    if fmt == "jsonl":
        if jobs != 1 and parallel.can_fork():
            data = stream.read()
            report = parallel.check_jsonl(data, name, validator, strict, limit, parallel.jobs_for(jobs))
            if report is None:
                report = parallel.check_lines(data, name, validator, strict, limit)
        else:  # streamed: a JSONL file may be larger than memory
            report = Report(name)
            check_documents(report, parse_jsonl(_jsonl_lines(stream, limit, report)), validator, strict)
        if report.documents == 0:
            report.add_unreadable(Unreadable("empty: expected one grader per line"))
        return report
    try:
        text = decode(_read_capped(stream, limit))
    except Unreadable as exc:
        report = Report(name)
        report.add_unreadable(exc)
        return report
    return check_text(text, name, fmt or (sniff(text) if text.strip() else "json"), strict, validator, limit)


def check_path(
    path: str, fmt: str | None, validator: Validator, strict: bool, limit: int, jobs: int = 1
) -> Report:
    try:
        with open(path, "rb") as stream:
            return check_stream(path, stream, fmt, validator, strict, limit, jobs)
    except OSError as exc:
        report = Report(path)
        reason = exc.strerror or str(exc)
        report.add_unreadable(Unreadable(f"cannot read: {reason[:1].lower()}{reason[1:]}"))
        return report

"""Check the documents of one text or file and place every problem at its line and column."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .check import Validator, bundled_validator
from .document import Document, Unreadable, too_large
from .load import format_of, parse_text, sniff
from .problem import INPUT, Problem

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
"""A grader is small (a python grader's source is under 256 kB): a bigger document is a mistake, and
reading it whole would be slow. A JSONL file may be any size; each of its lines is held to this."""

AT_KEY = frozenset({"unknown-property", "unused-grader"})
"""Problems about a property as a whole: they point at its name rather than its value."""


@dataclass
class Report:
    """What checking one input found."""

    name: str
    documents: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def unreadable(self) -> bool:
        return any(p.code == INPUT for p in self.problems)

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)

    def add_unreadable(self, exc: Unreadable) -> None:
        self.problems.append(Problem("error", "", exc.message, exc.hint, INPUT, exc.line, exc.column))


def check_documents(
    report: Report, documents: Iterable[Document | Unreadable], validator: Validator, strict: bool = False
) -> Report:
    for doc in documents:
        report.documents += 1
        if isinstance(doc, Unreadable):
            report.add_unreadable(doc)
            continue
        located: list[Problem] = []
        for problem in validator.check(doc.value):
            where = doc.locator.locate(problem.pointer, at_key=problem.code in AT_KEY) or (doc.line, 1)
            if strict and problem.severity == "warning":
                problem = replace(problem, severity="error")
            located.append(problem.at(*where))
        if doc.problems:  # found while reading: put them in place among the others
            located = list(heapq.merge(doc.problems, located, key=_position))
        report.problems.extend(located)
    return report


def _position(problem: Problem) -> tuple[int, int]:
    return problem.line or 0, problem.column or 0


def text_problem(text: str, max_chars: int = MAX_DOCUMENT_BYTES) -> Unreadable | None:
    """Why a text cannot hold a grader file before it is even parsed, if it cannot."""
    if len(text) > max_chars:
        return too_large(len(text), max_chars)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: text decoded with errors="surrogateescape"
            line = text.count("\n", 0, exc.start) + 1
            column = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
            return Unreadable("not UTF-8 text: a lone surrogate", line, column, "grader files are UTF-8 text")
    nul = text.find("\0")
    if nul != -1:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        return Unreadable("binary data: a NUL character", line, column, "grader files are UTF-8 text")
    if not text.strip():
        return Unreadable("empty: expected a grader or a request body")
    return None


def check_text(
    text: str,
    name: str = "<text>",
    fmt: str | None = None,
    strict: bool = False,
    validator: Validator | None = None,
    max_chars: int = MAX_DOCUMENT_BYTES,
    jobs: int = 1,
) -> Report:
    """Check the grader file `text`; its format comes from `fmt`, else from `name`, else from the text.
    A JSONL text is checked by `jobs` processes (0: one per CPU) when it is big enough to pay."""
    report = Report(name)
    text = text.removeprefix("\ufeff")
    fmt = fmt or format_of(name)
    problem = text_problem(text, max_chars if fmt != "jsonl" else len(text))
    if problem is not None:
        report.add_unreadable(problem)
        return report
    fmt = fmt or sniff(text)
    validator = validator or bundled_validator()
    if fmt == "jsonl" and jobs != 1:
        from . import parallel

        checked = parallel.check_jsonl(text, name, validator, strict, max_chars, parallel.jobs_for(jobs))
        if checked is not None:
            return checked
    check_documents(report, parse_text(text, fmt), validator, strict)
    if report.documents == 0:
        report.add_unreadable(Unreadable("empty: expected a grader or a request body"))
    return report

"""Print what was found: `file:line:col: severity: /pointer: message (hint)` lines, or JSON."""

from __future__ import annotations

import json
from typing import Any, TextIO

from .run import Report

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def exit_status(reports: list[Report]) -> int:
    if any(r.unreadable for r in reports):
        return EXIT_UNREADABLE
    return EXIT_INVALID if any(r.errors for r in reports) else EXIT_VALID


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(reports: list[Report]) -> str:
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warnings for r in reports)
    documents = sum(r.documents for r in reports)
    checked = f"{_plural(documents, 'document')} in {_plural(len(reports), 'file')}"
    if not errors and not warnings:
        return f"{checked}: all valid"
    return f"{checked}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"


def write_text(reports: list[Report], out: TextIO, quiet: bool = False) -> None:
    for report in reports:
        for p in report.problems:
            where = report.name
            if p.line is not None:
                where += f":{p.line}" + (f":{p.column}" if p.column is not None else "")
            out.write(f"{where}: {p.severity}: {p.describe()}\n")
    if not quiet or any(r.problems for r in reports):
        out.write(summary(reports) + "\n")


def as_json(reports: list[Report]) -> dict[str, Any]:
    return {
        "valid": exit_status(reports) == EXIT_VALID,
        "problems": [{"file": r.name, **p.as_dict()} for r in reports for p in r.problems],
        "files": [
            {"file": r.name, "documents": r.documents, "errors": r.errors, "warnings": r.warnings}
            for r in reports
        ],
        "summary": {
            "files": len(reports),
            "documents": sum(r.documents for r in reports),
            "errors": sum(r.errors for r in reports),
            "warnings": sum(r.warnings for r in reports),
            "unreadable": sum(r.unreadable for r in reports),
        },
    }


def write_json(reports: list[Report], out: TextIO) -> None:
    json.dump(as_json(reports), out, indent=2, ensure_ascii=False)
    out.write("\n")

"""Validate grader files: the schema from the canonical spec, and the documented rules it cannot say.

>>> from gradergen import validate
>>> [p.describe() for p in validate({"type": "string_check", "name": "n", "input": "{{ sample.output_text }}",
...                                  "reference": "x", "operation": "neq"})]
["/operation: 'neq' is not one of eq, ne, like, ilike (did you mean 'ne'?)"]
"""

from __future__ import annotations

from typing import Any

from .problem import Problem, Severity

__all__ = ["Problem", "Severity", "grader_schema", "validate", "validate_text"]


def validate(obj: Any, *, strict: bool = False) -> list[Problem]:
    """Every problem of a grader or request body given as parsed JSON, in document order.

    Each Problem has a severity ("error" or "warning"), a JSON pointer, a message and a hint; line and
    column are None. `strict` turns warnings (unknown properties, unused sub-graders…) into errors."""
    from dataclasses import replace

    from .check import bundled_validator

    problems = bundled_validator().check(obj)
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    return problems


def validate_text(
    text: str, *, name: str = "<text>", format: str | None = None, strict: bool = False, jobs: int = 1
) -> list[Problem]:
    """Every problem of a grader file's text, each with its line and column (1-based).

    `format` is "json", "jsonl" or "yaml"; by default it comes from `name`'s extension, else from the
    text. Text that cannot be read (bad syntax, binary data, empty, too deep…) gives one problem with
    code "input" instead of raising. `jobs` > 1 (0: one per CPU) checks a big JSONL text in forked
    processes, where the platform has fork and the caller runs a single thread."""
    from .run import check_text

    return check_text(text, name, format, strict, jobs=jobs).problems


def grader_schema(*, strict: bool = False) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of grader files; `strict` rejects unknown properties."""
    import copy

    from .schema import bundled_schema

    return copy.deepcopy(bundled_schema(strict))

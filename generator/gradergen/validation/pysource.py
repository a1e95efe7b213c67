"""The python grader's `source`: under 256 kB, valid Python, and defining `grade(sample, item)`."""

from __future__ import annotations

import ast
import warnings
from functools import lru_cache
from typing import Literal, NamedTuple

MAX_SOURCE_BYTES = 256 * 1024
SIGNATURE = "def grade(sample, item) -> float"


class SourceIssue(NamedTuple):
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"


@lru_cache(maxsize=256)
def check_source(source: str) -> tuple[SourceIssue, ...]:
    """Parsing is the costliest check of all: a document found wanting is checked a second time, with
    its problems located, and asks again."""
    return tuple(_check(source))


def _check(source: str) -> list[SourceIssue]:
    size = len(source.encode("utf-8", "surrogatepass"))
    if size >= MAX_SOURCE_BYTES:
        return [
            SourceIssue(
                f"source is {size / 1024:.0f} kB; it must be under 256 kB", "move data out of the grader"
            )
        ]
    try:
        module, noticed = _parse(source)
    except SyntaxError as exc:
        where = f" (line {exc.lineno} of the source)" if exc.lineno else ""
        return [SourceIssue(f"source is not valid Python: {exc.msg}{where}")]
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL characters, pathological nesting
        reason = "it nests too deeply" if isinstance(exc, (RecursionError, MemoryError)) else str(exc)
        return [SourceIssue(f"source cannot be parsed as Python: {reason}")]
    return noticed + _check_grade(module)


def _parse(source: str) -> tuple[ast.Module, list[SourceIssue]]:
    """The module, and what Python warns about while reading it (`1if x`, an invalid escape such as
    "\\d"): accepted today, refused by newer versions. Python would print those warnings on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = ast.parse(source)
    noticed = [
        SourceIssue(
            f"source line {w.lineno}: {w.message}",
            "Python reads it with a warning, and newer versions may refuse it",
            "warning",
        )
        for w in caught
        if issubclass(w.category, (SyntaxWarning, DeprecationWarning))
    ]
    return module, list(dict.fromkeys(noticed))


def _check_grade(module: ast.Module) -> list[SourceIssue]:
    grade = _last_grade(module.body)
    if grade is None:
        return [SourceIssue("source does not define grade at the top level", f"define {SIGNATURE}")]
    if isinstance(grade, ast.AsyncFunctionDef):
        return [SourceIssue("grade must be a plain function, not async", f"define {SIGNATURE}")]
    if isinstance(grade, (ast.FunctionDef, ast.Lambda)):
        return _check_parameters(grade.args)
    return []  # assigned from elsewhere (grade = make_grader()): cannot be told without running it


def _last_grade(body: list[ast.stmt]) -> ast.AST | None:
    """The statement that last binds `grade` at module level, looking into if/try/with blocks."""
    found: ast.AST | None = None
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and stmt.name == "grade":
            found = stmt
        elif isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "grade" for t in stmt.targets
        ):
            found = stmt.value if isinstance(stmt.value, ast.Lambda) else stmt
        elif isinstance(stmt, (ast.ImportFrom, ast.Import)) and any(
            (a.asname or a.name) == "grade" for a in stmt.names
        ):
            found = stmt
        else:
            for block in _blocks(stmt):
                inner = _last_grade(block)
                if inner is not None:
                    found = inner
    return found


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(stmt, ast.If):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [stmt.body]
    if isinstance(stmt, (ast.Try, ast.TryStar)):
        return [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
    return []


def _check_parameters(args: ast.arguments) -> list[SourceIssue]:
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg is not None or len(positional) != 2:
        found = ", ".join(positional + ([f"*{args.vararg.arg}"] if args.vararg else [])) or "none"
        return [
            SourceIssue(
                f"grade must take exactly two positional parameters (sample, item); it takes: {found}",
                f"define {SIGNATURE}",
            )
        ]
    required_keywords = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    if required_keywords:
        return [
            SourceIssue(
                f"grade has required keyword-only parameters: {', '.join(required_keywords)}",
                "grade is called with (sample, item) only; give them defaults",
            )
        ]
    return []

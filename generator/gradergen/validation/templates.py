"""Template strings as the validator reports them: the grader language's own reading
(`gradergen.language.templates`), with "did you mean" for a mistyped namespace or sample variable."""

from __future__ import annotations

from typing import NamedTuple

from ..language.templates import scan
from .problem import Severity
from .suggest import did_you_mean


class TemplateIssue(NamedTuple):
    severity: Severity
    message: str
    hint: str = ""


def check_templates(text: str) -> tuple[TemplateIssue, ...]:
    """Every problem with the template strings in `text`; positions count characters from 1."""
    if "{{" not in text and "}}" not in text:
        return ()
    return tuple(
        TemplateIssue(
            p.severity, p.message, (did_you_mean(p.unknown, p.known) if p.unknown else "") or p.hint
        )
        for p in scan(text).problems
    )

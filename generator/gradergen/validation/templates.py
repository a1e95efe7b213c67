"""Template strings: `{{ item.answer }}`, `{{sample.output_json.email}}`, `{{ sample.output_tools[0].id }}`.

A template holds one variable path: a namespace (`item`, the dataset row, or `sample`, the model's
output), then keys after dots and indexes in brackets. `sample` must be followed by one of its variables.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .problem import Severity
from .suggest import did_you_mean

NAMESPACES = ("item", "sample")
SAMPLE_VARIABLES = ("output_text", "output_json", "output_tools", "choices", "output_audio")

_HEAD = re.compile(r"[^.\[\]\s{}]+")
_WELL_FORMED = re.compile(
    r"\{\{\s*(?:item|sample\.(?:" + "|".join(SAMPLE_VARIABLES) + r"))(?:\.[^.\[\]\s{}]+|\[\d+\])*\s*\}\}"
)
"""A template with nothing to report, recognised in one step: the common case."""
_KEY = re.compile(r"\.([^.\[\]\s{}]*)")
_INDEX = re.compile(r"\[([^\]]*)\]")


class TemplateIssue(NamedTuple):
    severity: Severity
    message: str
    hint: str = ""


def check_templates(text: str) -> tuple[TemplateIssue, ...]:
    """Every problem with the template strings in `text`; positions count characters from 1."""
    if "{{" not in text and "}}" not in text:
        return ()
    if len(text) <= 200:  # short template strings ("{{ sample.output_text }}") recur in every file
        return _check_short(text)
    return tuple(_check(text))


@lru_cache(maxsize=4096)
def _check_short(text: str) -> tuple[TemplateIssue, ...]:
    return tuple(_check(text))


def _check(text: str) -> list[TemplateIssue]:
    issues: list[TemplateIssue] = []
    i = 0
    while True:
        start = text.find("{{", i)
        close = text.find("}}", i)
        if close != -1 and (start == -1 or close < start):
            issues.append(
                TemplateIssue(
                    "warning",
                    f"'}}}}' at character {close + 1} closes no '{{{{'",
                    "fine if it is literal text; a template is written {{ item.key }}",
                )
            )
            i = close + 2
            continue
        if start == -1:
            return issues
        well_formed = _WELL_FORMED.match(text, start)
        if well_formed is not None:
            i = well_formed.end()
            continue
        end = text.find("}}", start + 2)
        if end == -1:
            issues.append(
                TemplateIssue(
                    "error", f"'{{{{' at character {start + 1} is never closed", "close it with '}}'"
                )
            )
            return issues
        issue = _check_variable(text[start + 2 : end], start + 3)
        if issue is not None:
            issues.append(issue)
        i = end + 2


def _check_variable(inner: str, offset: int) -> TemplateIssue | None:
    body = inner.strip()
    at = offset + (len(inner) - len(inner.lstrip()))
    where = f"template at character {offset - 2}"
    if not body:
        return TemplateIssue("error", f"{where} is empty", "write a variable such as {{ item.answer }}")
    if "{{" in body or "{" in body:
        return TemplateIssue("error", f"{where} contains another '{{'", "templates do not nest")
    head = _HEAD.match(body)
    if head is None:
        return TemplateIssue("error", f"{where} must start with item or sample, found {body[:20]!r}")
    namespace = head.group()
    if namespace not in NAMESPACES:
        hint = did_you_mean(namespace, NAMESPACES) or "the namespaces are item and sample"
        return TemplateIssue("error", f"{where}: unknown namespace {namespace!r}", hint)
    pos = head.end()
    steps: list[str] = []
    while pos < len(body):
        key = _KEY.match(body, pos)
        if key is not None:
            if not key.group(1):
                return TemplateIssue("error", f"{where}: empty key after '.' at character {at + pos}")
            steps.append(key.group(1))
            pos = key.end()
            continue
        index = _INDEX.match(body, pos)
        if index is not None:
            if not index.group(1).isdigit():
                return TemplateIssue(
                    "error",
                    f"{where}: index [{index.group(1)}] at character {at + pos} is not a whole number",
                    "write indexes as [0], [1], …; keys after a dot",
                )
            steps.append(index.group())
            pos = index.end()
            continue
        rest = body[pos:].lstrip()
        pos = len(body) - len(rest)
        hint = "filters and expressions are not supported" if rest[:1] in "|+-*/(" else ""
        return TemplateIssue(
            "error",
            f"{where}: unexpected {rest[:20]!r} at character {at + pos}; a template holds one path",
            hint,
        )
    if namespace == "sample":
        variable = steps[0] if steps else ""
        if not variable or variable.startswith("["):
            return TemplateIssue(
                "error", f"{where}: 'sample' needs a variable", "one of " + ", ".join(SAMPLE_VARIABLES)
            )
        if variable not in SAMPLE_VARIABLES:
            hint = did_you_mean(variable, SAMPLE_VARIABLES) or "one of " + ", ".join(SAMPLE_VARIABLES)
            return TemplateIssue("error", f"{where}: {variable!r} is not a sample variable", hint)
    return None

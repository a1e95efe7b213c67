"""Template strings: `{{ item.answer }}`, `{{sample.output_json.email}}`, `{{ sample.output_tools[0].id }}`.

A template holds one variable path: a namespace (`item`, the dataset row, or `sample`, the model's
output), then keys after dots and indexes in brackets (`[0]`, `[-1]` from the end). `sample` must be
followed by one of its variables. Text around the templates is kept as it is.

`scan` reads a string once into literal text and variables, with every problem it has; the validator
reports the problems, the engine renders the parts. Rendering looks each path up in the scope:
a key of an object, an index of a list, and — where a step meets a string that holds JSON, such as a
tool call's `arguments` — the parsed value of that string. A value that is not text is printed as
compact JSON. A path that leads nowhere raises `MissingVariable`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

NAMESPACES = ("item", "sample")
SAMPLE_VARIABLES = ("output_text", "output_json", "output_tools", "choices", "output_audio")

Severity = Literal["error", "warning"]

_HEAD = re.compile(r"[^.\[\]\s{}]+")
_KEY = re.compile(r"\.([^.\[\]\s{}]*)")
_INDEX = re.compile(r"\[([^\]]*)\]")
_WHOLE_NUMBER = re.compile(r"-?\d+")
_SIMPLE = re.compile(
    r"\{\{\s*(item|sample\.(?:" + "|".join(SAMPLE_VARIABLES) + r"))((?:\.[^.\[\]\s{}]+|\[-?\d+\])*)\s*\}\}"
)
"""A template with nothing to report, recognised in one step: the common case."""
_STEP = re.compile(r"\.([^.\[\]\s{}]+)|\[(-?\d+)\]")


@dataclass(frozen=True)
class Key:
    name: str


@dataclass(frozen=True)
class Index:
    value: int


Step = Key | Index


@dataclass(frozen=True)
class Variable:
    namespace: str
    steps: tuple[Step, ...]
    position: int
    """1-based character of its `{{` in the string."""
    text: str
    """The path as written, without braces or spaces: `sample.output_json.email`."""


@dataclass(frozen=True)
class TemplateProblem:
    severity: Severity
    message: str
    hint: str = ""
    unknown: str = ""
    """The name that is not known (a namespace or sample variable), for "did you mean"."""
    known: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    parts: tuple[str | Variable, ...]
    problems: tuple[TemplateProblem, ...] = ()

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(p for p in self.parts if isinstance(p, Variable))

    @property
    def errors(self) -> tuple[TemplateProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def single(self) -> Variable | None:
        """The variable, when the whole string is one template and nothing else."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Variable):
            return self.parts[0]
        return None


class MissingVariable(LookupError):
    """A template's path leads to nothing in the scope."""

    def __init__(self, variable: Variable, reason: str) -> None:
        super().__init__(f"{{{{ {variable.text} }}}}: {reason}")
        self.variable = variable
        self.reason = reason


def scan(text: str) -> Template:
    """The parts of `text` and its problems; never raises."""
    if "{{" not in text and "}}" not in text:
        return Template((text,) if text else ())
    if len(text) <= 300:  # short template strings ("{{ sample.output_text }}") recur in every file
        return _scan_cached(text)
    return _scan(text)


@lru_cache(maxsize=8192)
def _scan_cached(text: str) -> Template:
    return _scan(text)


def _scan(text: str) -> Template:
    parts: list[str | Variable] = []
    problems: list[TemplateProblem] = []
    literal: list[str] = []
    i = 0
    while True:
        start = text.find("{{", i)
        close = text.find("}}", i)
        if close != -1 and (start == -1 or close < start):
            problems.append(
                TemplateProblem(
                    "warning",
                    f"'}}}}' at character {close + 1} closes no '{{{{'",
                    "fine if it is literal text; a template is written {{ item.key }}",
                )
            )
            literal.append(text[i : close + 2])
            i = close + 2
            continue
        if start == -1:
            literal.append(text[i:])
            break
        literal.append(text[i:start])
        simple = _SIMPLE.match(text, start)
        if simple is not None:
            _flush(literal, parts)
            parts.append(_simple_variable(simple, start))
            i = simple.end()
            continue
        end = text.find("}}", start + 2)
        if end == -1:
            problems.append(
                TemplateProblem(
                    "error", f"'{{{{' at character {start + 1} is never closed", "close it with '}}'"
                )
            )
            literal.append(text[start:])
            break
        found = _variable(text[start + 2 : end], start + 1)
        if isinstance(found, TemplateProblem):
            problems.append(found)
            literal.append(text[start : end + 2])
        else:
            _flush(literal, parts)
            parts.append(found)
        i = end + 2
    _flush(literal, parts)
    return Template(tuple(parts), tuple(problems))


def _flush(literal: list[str], parts: list[str | Variable]) -> None:
    joined = "".join(literal)
    literal.clear()
    if joined:
        parts.append(joined)


def _simple_variable(match: re.Match[str], start: int) -> Variable:
    head, rest = match.group(1), match.group(2)
    steps: list[Step] = []
    if head.startswith("sample."):
        steps.append(Key(head[len("sample.") :]))
        head = "sample"
    for key, index in _STEP.findall(rest):
        steps.append(Index(int(index)) if index else Key(key))
    return Variable(head, tuple(steps), start + 1, _path_text(head, steps))


def _path_text(namespace: str, steps: list[Step]) -> str:
    out = [namespace]
    for step in steps:
        out.append(f".{step.name}" if isinstance(step, Key) else f"[{step.value}]")
    return "".join(out)


def _variable(inner: str, position: int) -> Variable | TemplateProblem:
    body = inner.strip()
    at = position + 2 + (len(inner) - len(inner.lstrip()))
    where = f"template at character {position}"
    if not body:
        return TemplateProblem("error", f"{where} is empty", "write a variable such as {{ item.answer }}")
    if "{{" in body or "{" in body:
        return TemplateProblem("error", f"{where} contains another '{{'", "templates do not nest")
    head = _HEAD.match(body)
    if head is None:
        return TemplateProblem("error", f"{where} must start with item or sample, found {body[:20]!r}")
    namespace = head.group()
    if namespace not in NAMESPACES:
        return TemplateProblem(
            "error",
            f"{where}: unknown namespace {namespace!r}",
            "the namespaces are item and sample",
            unknown=namespace,
            known=NAMESPACES,
        )
    pos = head.end()
    steps: list[Step] = []
    while pos < len(body):
        key = _KEY.match(body, pos)
        if key is not None:
            if not key.group(1):
                return TemplateProblem("error", f"{where}: empty key after '.' at character {at + pos}")
            steps.append(Key(key.group(1)))
            pos = key.end()
            continue
        index = _INDEX.match(body, pos)
        if index is not None:
            if not _WHOLE_NUMBER.fullmatch(index.group(1).strip()):
                return TemplateProblem(
                    "error",
                    f"{where}: index [{index.group(1)}] at character {at + pos} is not a whole number",
                    "write indexes as [0], [1], … or [-1] for the last; keys after a dot",
                )
            steps.append(Index(int(index.group(1))))
            pos = index.end()
            continue
        rest = body[pos:].lstrip()
        pos = len(body) - len(rest)
        hint = "filters and expressions are not supported" if rest[:1] in "|+-*/(" else ""
        return TemplateProblem(
            "error",
            f"{where}: unexpected {rest[:20]!r} at character {at + pos}; a template holds one path",
            hint,
        )
    if namespace == "sample":
        first = steps[0] if steps else None
        if not isinstance(first, Key):
            return TemplateProblem(
                "error", f"{where}: 'sample' needs a variable", "one of " + ", ".join(SAMPLE_VARIABLES)
            )
        if first.name not in SAMPLE_VARIABLES:
            return TemplateProblem(
                "error",
                f"{where}: {first.name!r} is not a sample variable",
                "one of " + ", ".join(SAMPLE_VARIABLES),
                unknown=first.name,
                known=SAMPLE_VARIABLES,
            )
    return Variable(namespace, tuple(steps), position, _path_text(namespace, steps))


# ----------------------------------------------------------------------------- rendering
def resolve(variable: Variable, scope: Mapping[str, Any]) -> Any:
    """The value a variable's path leads to in `scope` ({"item": …, "sample": …})."""
    if variable.namespace not in scope:
        raise MissingVariable(variable, f"there is no {variable.namespace}")
    value = scope[variable.namespace]
    walked = variable.namespace
    for step in variable.steps:
        if isinstance(value, str) and value[:1] in "{[":
            value = _parsed(value)  # a JSON string, such as a tool call's arguments
        if isinstance(step, Key):
            if not isinstance(value, Mapping):
                raise MissingVariable(
                    variable, f"{walked} is {_kind(value)}, not an object with {step.name!r}"
                )
            if step.name not in value:
                raise MissingVariable(variable, f"{walked} has no {step.name!r}")
            value = value[step.name]
            walked += "." + step.name
        else:
            if not isinstance(value, list):
                raise MissingVariable(variable, f"{walked} is {_kind(value)}, not a list")
            if not -len(value) <= step.value < len(value):
                raise MissingVariable(variable, f"{walked} has {len(value)} items, no [{step.value}]")
            value = value[step.value]
            walked += f"[{step.value}]"
    return value


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def as_text(value: Any) -> str:
    """How a value is written into a template: text as it is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render(template: Template, scope: Mapping[str, Any]) -> str:
    """The template's text with each variable replaced by its value; MissingVariable if one has none."""
    parts = template.parts
    if len(parts) == 1:
        only = parts[0]
        return only if isinstance(only, str) else as_text(resolve(only, scope))
    return "".join(p if isinstance(p, str) else as_text(resolve(p, scope)) for p in parts)

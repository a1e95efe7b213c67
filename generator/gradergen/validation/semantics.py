"""Rules the schema cannot say, each attached to the spec type it applies to.

A hook gets one value of its type (possibly malformed: it must not assume the schema holds) and returns
findings with paths relative to that value. The rules come from the graders guide, as summarised in
the spec's descriptions and x-decision notes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..language.formula import FormulaError, parse_formula
from .problem import Finding, Path, shown
from .pysource import check_source
from .suggest import closest, did_you_mean
from .templates import check_templates

if TYPE_CHECKING:
    from .shape import GraderFile

Hook = Callable[[Any], list[Finding]]

IMAGE_DETAILS = ("high", "low", "auto")
"""InputImage.detail is typed as a string; its description lists these values."""
PYTHON_IMAGE_TAGS = ("2025-05-08",)
"""The python graders' image tags whose package set is documented; the first is the default, and the
engine runs a grader with any other tag in it (`gradergen image build TAG` builds each)."""
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def templates_in(*fields: str) -> Hook:
    def hook(value: Any) -> list[Finding]:
        if not isinstance(value, dict):
            return []
        found: list[Finding] = []
        for name in fields:
            found.extend(_template_findings(value.get(name), (name,)))
        return found

    return hook


def _template_findings(text: Any, path: Path) -> list[Finding]:
    if not isinstance(text, str):
        return []
    issues = check_templates(text)
    if not issues:
        return []
    return [Finding(path, i.severity, "template", i.message, i.hint) for i in issues]


def text_input(value: Any) -> list[Finding]:
    return _template_findings(value, ())


def input_image(value: Any) -> list[Finding]:
    found = templates_in("image_url")(value)
    detail = value.get("detail") if isinstance(value, dict) else None
    if isinstance(detail, str) and detail not in IMAGE_DETAILS:
        hint = did_you_mean(detail, IMAGE_DETAILS) or "one of " + ", ".join(IMAGE_DETAILS)
        found.append(
            Finding(
                ("detail",), "warning", "image-detail", f"{shown(detail)} is not a documented detail", hint
            )
        )
    return found


def python_grader(value: Any) -> list[Finding]:
    if not isinstance(value, dict):
        return []
    source = value.get("source")
    found: list[Finding] = []
    if isinstance(source, str):
        found.extend(
            Finding(("source",), i.severity, "python", i.message, i.hint) for i in check_source(source)
        )
    tag = value.get("image_tag")
    if isinstance(tag, str) and tag not in PYTHON_IMAGE_TAGS:
        hint = did_you_mean(tag, PYTHON_IMAGE_TAGS) or f"known: {', '.join(PYTHON_IMAGE_TAGS)}"
        message = f"{tag!r} is not a known image tag; it runs in {PYTHON_IMAGE_TAGS[0]}"
        found.append(Finding(("image_tag",), "warning", "image-tag", message, hint))
    return found


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def score_model_grader(value: Any) -> list[Finding]:
    bounds = value.get("range") if isinstance(value, dict) else None
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(_is_number(b) for b in bounds)):
        return []  # the schema reports the shape
    if any(isinstance(b, float) and not math.isfinite(b) for b in bounds):
        return []  # finite_numbers says why
    low, high = (shown(b) for b in bounds)
    if bounds[0] < bounds[1]:
        return []
    if bounds[0] == bounds[1]:
        return [
            Finding(
                ("range",),
                "error",
                "range",
                f"range [{low}, {high}] is empty",
                "the minimum must be below the maximum",
            )
        ]
    return [
        Finding(
            ("range",),
            "error",
            "range",
            f"range [{low}, {high}] has its minimum above its maximum",
            f"write [{high}, {low}]",
        )
    ]


def label_model_grader(value: Any) -> list[Finding]:
    if not isinstance(value, dict):
        return []
    found: list[Finding] = []
    labels = value.get("labels")
    known: list[str] = []
    if isinstance(labels, list):
        first: dict[str, int] = {}
        for i, label in enumerate(labels):
            if not isinstance(label, str):
                continue
            if label in first:
                found.append(
                    Finding(
                        ("labels", i),
                        "error",
                        "labels",
                        f"duplicate label {shown(label)} (also at index {first[label]})",
                        "labels must be unique",
                    )
                )
            else:
                first[label] = i
        known = list(first)
    passing = value.get("passing_labels")
    if isinstance(passing, list) and isinstance(labels, list):
        for i, label in enumerate(passing):
            if isinstance(label, str) and label not in known:
                hint = did_you_mean(label, known) or "passing_labels must be a subset of labels"
                message = f"{shown(label)} is not one of the labels ({', '.join(known) or 'none'})"
                found.append(Finding(("passing_labels", i), "error", "labels", message, hint))
    return found


def multi_grader(value: Any) -> list[Finding]:
    if not isinstance(value, dict):
        return []
    found: list[Finding] = []
    graders = value.get("graders")
    keys: list[str] | None = None
    if isinstance(graders, list):
        found.append(
            Finding(
                ("graders",),
                "error",
                "multi-graders",
                "graders must be an object that maps keys to graders, found a list",
                'give each grader a key: {"a": {…}, "b": {…}}, and combine the keys in calculate_output',
                replaces=True,
            )
        )
    elif isinstance(graders, dict) and isinstance(graders.get("type"), str):
        found.append(
            Finding(
                ("graders",),
                "error",
                "multi-graders",
                "graders must map keys to graders, found a single grader",
                'wrap it: "graders": {"key": {…}}, and use key in calculate_output',
                replaces=True,
            )
        )
    elif isinstance(graders, dict):
        keys = list(graders)
    formula = value.get("calculate_output")
    if isinstance(formula, str):
        found.extend(_formula_findings(formula, keys, graders if keys is not None else {}))
    return found


def _formula_findings(formula: str, keys: list[str] | None, graders: Any) -> list[Finding]:
    where = ("calculate_output",)
    try:
        parsed = parse_formula(formula)
    except FormulaError as exc:
        return [Finding(where, "error", "formula", f"at character {exc.position}: {exc.message}", exc.hint)]
    if keys is None:
        return []
    found: list[Finding] = []
    used = {name for name, _ in parsed.names}
    names_of = {
        g.get("name"): k for k, g in graders.items() if isinstance(g, dict) and isinstance(g.get("name"), str)
    }
    for name, position in parsed.names:
        if name in keys:
            continue
        if name in names_of:
            hint = f"calculate_output refers to graders by key, not by name: use {names_of[name]!r}"
        else:
            hint = did_you_mean(name, keys) or "keys: " + ", ".join(keys)
        message = f"at character {position}: {name!r} is not a key of graders"
        found.append(Finding(where, "error", "formula", message, hint))
    for key in keys:
        if key not in used:
            hint = (
                "" if _KEY.match(key) else "calculate_output can only name keys made of letters, digits and _"
            )
            found.append(
                Finding(
                    ("graders", key),
                    "warning",
                    "unused-grader",
                    f"grader {shown(key)} is not used in calculate_output",
                    hint,
                    at_key=True,
                )
            )
    return found


def sampling_params(value: Any) -> list[Finding]:
    tokens = value.get("max_completions_tokens") if isinstance(value, dict) else None
    whole = (isinstance(tokens, int) and not isinstance(tokens, bool)) or (
        isinstance(tokens, float) and tokens.is_integer()
    )
    if not whole or tokens >= 1:  # type: ignore[operator]
        return []  # absent, null, or not an integer: the schema's to report
    message = f"max_completions_tokens must be at least 1, found {shown(tokens)}"
    hint = "the grader model must be allowed at least one token; leave it out, or null, for the model's limit"
    return [Finding(("max_completions_tokens",), "error", "sampling-params", message, hint)]


def missing_name(value: Any) -> list[Finding]:
    if not isinstance(value, dict) or "name" in value:
        return []
    message = (
        "no name: the service runs a grader without one, but the official SDK types and the "
        "generated bindings require it"
    )
    return [Finding((), "warning", "missing-name", message, 'add "name": a string that says what it grades')]


def finite_numbers(fields: tuple[str, ...]) -> Hook:
    """Numbers JSON cannot carry, in the given number (or array of numbers) fields: YAML's .inf and
    .nan, a JSON literal too big for a float (1e999), a NaN handed to `validate`."""

    def hook(value: Any) -> list[Finding]:
        if not isinstance(value, dict):
            return []
        found: list[Finding] = []
        for name in fields:
            x = value.get(name)
            items = enumerate(x) if isinstance(x, list) else [(None, x)]
            for i, item in items:
                if isinstance(item, float) and not math.isfinite(item):
                    path = (name,) if i is None else (name, i)
                    found.append(
                        Finding(path, "error", "number", f"{item} is not a finite number", FINITE_HINT)
                    )
        return found

    return hook


FINITE_HINT = "JSON, which the API reads, has no infinity or NaN: write a finite number"


def combine(hooks: list[Hook]) -> Hook:
    if len(hooks) == 1:
        return hooks[0]

    def combined(value: Any) -> list[Finding]:
        return [f for hook in hooks for f in hook(value)]

    return combined


HOOKS: dict[str, Hook] = {
    "StringCheckGrader": templates_in("input", "reference"),
    "TextSimilarityGrader": templates_in("input", "reference"),
    "PythonGrader": python_grader,
    "ScoreModelGrader": score_model_grader,
    "LabelModelGrader": label_model_grader,
    "MultiGrader": multi_grader,
    "TextInput": text_input,
    "ResponseInputText": templates_in("text"),
    "OutputText": templates_in("text"),
    "InputImage": input_image,
    "ResponseInputAudioInputAudio": templates_in("data"),
    "SamplingParams": sampling_params,
}
"""The semantic checks of each spec type. Templates render in grader inputs and references and in
every text, image URL and audio data of a model grader's messages."""


@dataclass(frozen=True)
class Notes:
    """The rules read off the IR, which the fast checker tests inline (a hook call per value would
    cost the common path more than the test): what it notes, the full report explains."""

    named: frozenset[str] = frozenset()
    """Types whose missing `name` is a warning: the grader types."""
    finite: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per type, its number (or array of numbers) fields: infinity and NaN are errors."""


def notes_for(shape: GraderFile) -> Notes:
    from ..ir.model import ArrayOf, Primitive, Struct

    finite: dict[str, tuple[str, ...]] = {}
    for t in shape.ir.of_kind(Struct):
        numbers = tuple(
            f.wire_name
            for f in t.fields
            if any(
                isinstance(r, Primitive) and r.name == "number"
                for r in (f.type, f.type.item if isinstance(f.type, ArrayOf) else None)
            )
        )
        if numbers:
            finite[t.name] = numbers
    return Notes(frozenset(shape.graders), finite)


def hooks_for(notes: Notes) -> dict[str, Hook]:
    """HOOKS, and the hooks that explain the notes: a name on every grader type, finite numbers."""
    extra: dict[str, list[Hook]] = {name: [missing_name] for name in sorted(notes.named)}
    for name, fields in notes.finite.items():
        extra.setdefault(name, []).append(finite_numbers(fields))
    names = dict.fromkeys([*HOOKS, *extra])
    return {name: combine(([HOOKS[name]] if name in HOOKS else []) + extra.get(name, [])) for name in names}


PLACEMENT: dict[tuple[str, str], tuple[str, str]] = {
    ("Grader", "label_model"): (
        "a label_model grader can only be used inside a multi grader",
        'put it in a multi grader: {"type": "multi", "graders": {"label": {…}}, '
        '"calculate_output": "label", …}',
    ),
    ("SubGrader", "multi"): (
        "a multi grader cannot contain another multi grader",
        "move its graders into this one's graders and combine them in calculate_output",
    ),
}
"""Members of one grader union used where another union is expected: (union, tag) → message, hint."""


def misplaced(union: str, tag: str, other: str) -> tuple[str, str]:
    return PLACEMENT.get((union, tag), (f"a {tag} is a {other} member, not allowed here as a {union}", ""))


def unknown_property(key: str, declared: list[str], present: set[str], type_name: str) -> Finding:
    candidates = [d for d in declared if d not in present]
    match = closest(key, candidates)
    hint = f"did you mean {match!r}?" if match else f"{type_name} has " + ", ".join(declared)
    message = f"unknown property {shown(key)}"
    return Finding((key,), "warning", "unknown-property", message, hint, at_key=True)

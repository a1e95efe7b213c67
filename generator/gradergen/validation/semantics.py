"""Rules the schema cannot say, each attached to the spec type it applies to.

A hook gets one value of its type (possibly malformed: it must not assume the schema holds) and returns
findings with paths relative to that value. The rules come from the graders guide, as summarised in
the spec's descriptions and x-decision notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..language.formula import FormulaError, parse_formula
from .problem import Finding, Path
from .pysource import check_source
from .suggest import closest, did_you_mean
from .templates import check_templates

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
            Finding(("detail",), "warning", "image-detail", f"{detail!r} is not a documented detail", hint)
        )
    return found


def python_grader(value: Any) -> list[Finding]:
    if not isinstance(value, dict):
        return []
    found: list[Finding] = []
    source = value.get("source")
    if isinstance(source, str):
        found.extend(Finding(("source",), "error", "python", i.message, i.hint) for i in check_source(source))
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
    low, high = bounds
    if low < high:
        return []
    if low == high:
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
                        f"duplicate label {label!r} (also at index {first[label]})",
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
                message = f"{label!r} is not one of the labels ({', '.join(known) or 'none'})"
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
                    f"grader {key!r} is not used in calculate_output",
                    hint,
                    at_key=True,
                )
            )
    return found


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
}
"""The semantic checks of each spec type. Templates render in grader inputs and references and in
every text, image URL and audio data of a model grader's messages."""

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
    return Finding((key,), "warning", "unknown-property", f"unknown property {key!r}", hint, at_key=True)

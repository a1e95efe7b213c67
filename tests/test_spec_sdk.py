"""The spec keeps up with the official Python SDK.

Every class of the pinned `openai` package's graders and fine_tuning.alpha types, and every class they
refer to, is mapped to the spec schema it describes. Their fields are compared with the schema's
properties: fields on one side only, and for shared fields whether they are required, may be null, the
JSON shape they take and their enum values. Each difference must be recorded on the spec schema in
`x-sdk-differences` (key → why), next to an `x-decision` note that names the field:

    field            the field exists on one side only
    field.required   one side requires it, the other does not
    field.nullable   one side accepts null, the other does not
    field.shape      the JSON kinds differ (an integer vs a usage object, one grader vs a map)
    field.values     the enum or constant values differ
    (schema)         a spec object schema that no SDK class describes

A newer SDK that adds a field, a type or an enum value therefore fails here until the spec takes it or
says why not.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import re
import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Required, Union

import pytest
import typing_extensions
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import gradergen

from harness import ROOT, SPEC

try:
    import openai
    from openai._types import SequenceNotStr
    from pydantic import BaseModel
except ModuleNotFoundError as missing:  # pragma: no cover - depends on the environment
    pytest.fail(
        f"{missing.name} is missing: the official SDK is a dev dependency, "
        "install it with `.venv/bin/pip install -r requirements-dev.txt`",
        pytrace=False,
    )

DOC: dict[str, Any] = yaml.safe_load(SPEC.read_text())
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
SDK_PACKAGES = ("openai.types.graders", "openai.types.fine_tuning.alpha")
ASPECTS = ("required", "nullable", "shape", "values")
WHOLE_SCHEMA = "(schema)"

# The SDK class (its module under openai.types, then its name) → the spec schema it describes.
SCHEMA_OF: dict[str, str] = {
    "fine_tuning.alpha.grader_run_params.GraderRunParams": "GraderRunParams",
    "fine_tuning.alpha.grader_validate_params.GraderValidateParams": "GraderValidateParams",
    "fine_tuning.alpha.grader_validate_response.GraderValidateResponse": "GraderValidateResponse",
    "fine_tuning.alpha.grader_run_response.GraderRunResponse": "GraderRunResponse",
    "fine_tuning.alpha.grader_run_response.Metadata": "GraderRunResponseMetadata",
    "fine_tuning.alpha.grader_run_response.MetadataErrors": "GraderRunResponseMetadataErrors",
    "graders.string_check_grader.StringCheckGrader": "StringCheckGrader",
    "graders.string_check_grader_param.StringCheckGraderParam": "StringCheckGrader",
    "graders.text_similarity_grader.TextSimilarityGrader": "TextSimilarityGrader",
    "graders.text_similarity_grader_param.TextSimilarityGraderParam": "TextSimilarityGrader",
    "graders.python_grader.PythonGrader": "PythonGrader",
    "graders.python_grader_param.PythonGraderParam": "PythonGrader",
    "graders.score_model_grader.ScoreModelGrader": "ScoreModelGrader",
    "graders.score_model_grader_param.ScoreModelGraderParam": "ScoreModelGrader",
    "graders.score_model_grader.SamplingParams": "SamplingParams",
    "graders.score_model_grader_param.SamplingParams": "SamplingParams",
    "graders.score_model_grader.Input": "EvalItem",
    "graders.score_model_grader_param.Input": "EvalItem",
    "graders.score_model_grader.InputContentOutputText": "OutputText",
    "graders.score_model_grader_param.InputContentOutputText": "OutputText",
    "graders.score_model_grader.InputContentInputImage": "InputImage",
    "graders.score_model_grader_param.InputContentInputImage": "InputImage",
    "graders.label_model_grader.LabelModelGrader": "LabelModelGrader",
    "graders.label_model_grader_param.LabelModelGraderParam": "LabelModelGrader",
    "graders.label_model_grader.Input": "EvalItem",
    "graders.label_model_grader_param.Input": "EvalItem",
    "graders.label_model_grader.InputContentOutputText": "OutputText",
    "graders.label_model_grader_param.InputContentOutputText": "OutputText",
    "graders.label_model_grader.InputContentInputImage": "InputImage",
    "graders.label_model_grader_param.InputContentInputImage": "InputImage",
    "graders.multi_grader.MultiGrader": "MultiGrader",
    "graders.multi_grader_param.MultiGraderParam": "MultiGrader",
    "graders.grader_inputs.GraderInputItemOutputText": "OutputText",
    "graders.grader_inputs_param.GraderInputsParamItemOutputText": "OutputText",
    "graders.grader_inputs.GraderInputItemInputImage": "InputImage",
    "graders.grader_inputs_param.GraderInputsParamItemInputImage": "InputImage",
    "responses.response_input_text.ResponseInputText": "ResponseInputText",
    "responses.response_input_text_param.ResponseInputTextParam": "ResponseInputText",
    "responses.response_input_text.PromptCacheBreakpoint": "ResponseInputTextPromptCacheBreakpoint",
    "responses.response_input_text_param.PromptCacheBreakpoint": "ResponseInputTextPromptCacheBreakpoint",
    "responses.response_input_audio.ResponseInputAudio": "ResponseInputAudio",
    "responses.response_input_audio_param.ResponseInputAudioParam": "ResponseInputAudio",
    "responses.response_input_audio.InputAudio": "ResponseInputAudioInputAudio",
    "responses.response_input_audio_param.InputAudio": "ResponseInputAudioInputAudio",
}


# ---------------------------------------------------------------------------------- both sides, alike
@dataclass(frozen=True)
class Shape:
    """What a field takes: JSON kinds (`string`, `#Schema`, `array<…>`, `map<…>`, `any`), whether null
    is one of them, and its enum or constant values."""

    kinds: frozenset[str] = frozenset()
    nullable: bool = False
    values: frozenset[str] = frozenset()

    def __or__(self, other: Shape) -> Shape:
        return Shape(self.kinds | other.kinds, self.nullable or other.nullable, self.values | other.values)

    def spelled(self) -> str:
        return "|".join(sorted(self.kinds)) or "nothing"


@dataclass(frozen=True)
class FieldView:
    shape: Shape
    required: bool


@dataclass
class Difference:
    """One recordable difference, and the SDK classes it was found in (what differs → classes)."""

    schema: str
    key: str
    found: dict[str, set[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.schema}: {self.key} — " + "; ".join(
            f"{what} ({', '.join(sorted(classes))})" if classes else what
            for what, classes in sorted(self.found.items())
        )


# ---------------------------------------------------------------------------------- the SDK's side
def sdk_key(cls: type) -> str:
    return f"{cls.__module__.removeprefix('openai.types.')}.{cls.__qualname__}"


def is_sdk_type(tp: Any) -> bool:
    return isinstance(tp, type) and (
        (issubclass(tp, BaseModel) and tp.__module__.startswith("openai.types."))
        or typing_extensions.is_typeddict(tp)
    )


def root_classes() -> list[type]:
    """Every model and TypedDict defined in the SDK's graders and fine_tuning.alpha modules."""
    found: list[type] = []
    for package_name in SDK_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package_name}.{info.name}")
            found.extend(
                value
                for value in vars(module).values()
                if is_sdk_type(value) and value.__module__ == module.__name__
            )
    return found


def sdk_annotations(cls: type) -> dict[str, tuple[Any, bool]]:
    """Wire name → (annotation, required)."""
    if issubclass(cls, BaseModel):
        return {
            (info.alias or name): (info.annotation, info.is_required())
            for name, info in cls.model_fields.items()
        }
    # __required_keys__ is not reliable for TypedDicts written under `from __future__ import annotations`.
    hints = typing.get_type_hints(cls, include_extras=True)
    out: dict[str, tuple[Any, bool]] = {}
    for name, hint in hints.items():
        origin = typing.get_origin(hint)
        if origin is Required:
            out[name] = (typing.get_args(hint)[0], True)
        elif origin is NotRequired:
            out[name] = (typing.get_args(hint)[0], False)
        else:
            out[name] = (hint, bool(getattr(cls, "__total__", True)))
    return out


ARRAY_ORIGINS = (list, Iterable, Sequence, SequenceNotStr)
PRIMITIVES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean", object: "any"}


def sdk_shape(tp: Any) -> Shape:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is type(None):
        return Shape(nullable=True)
    if origin in (Union, types.UnionType):
        shape = Shape()
        for member in args:
            shape |= sdk_shape(member)
        return shape
    if origin is Literal:
        kinds = {PRIMITIVES[type(v)] for v in args}
        return Shape(frozenset(kinds), values=frozenset(str(v) for v in args))
    if origin is typing.Annotated:
        return sdk_shape(args[0])
    if origin in ARRAY_ORIGINS:
        return Shape(frozenset({f"array<{sdk_shape(args[0]).spelled()}>"}))
    if origin is dict:
        return Shape(frozenset({f"map<{sdk_shape(args[1]).spelled()}>"}))
    if tp in PRIMITIVES:
        return Shape(frozenset({PRIMITIVES[tp]}))
    if is_sdk_type(tp):
        return Shape(frozenset({"#" + SCHEMA_OF.get(sdk_key(tp), f"unmapped {sdk_key(tp)}")}))
    return Shape(frozenset({f"unknown {tp!r}"}))


def sdk_fields(cls: type) -> dict[str, FieldView]:
    return {
        wire: FieldView(sdk_shape(annotation), required)
        for wire, (annotation, required) in sdk_annotations(cls).items()
    }


def referenced_classes(tp: Any) -> Iterator[type]:
    if is_sdk_type(tp):
        yield tp
    for arg in typing.get_args(tp):
        if not isinstance(arg, (str, int, bool)):
            yield from referenced_classes(arg)


def reachable_classes() -> dict[str, type]:
    """The root classes and every SDK class their fields refer to, by key."""
    seen: dict[str, type] = {}
    todo = root_classes()
    while todo:
        cls = todo.pop()
        if sdk_key(cls) in seen:
            continue
        seen[sdk_key(cls)] = cls
        for annotation, _ in sdk_annotations(cls).values():
            todo.extend(referenced_classes(annotation))
    return seen


# ---------------------------------------------------------------------------------- the spec's side
def target_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[1] if isinstance(ref, str) else None


def spec_shape(node: Any, schemas: dict[str, Any]) -> Shape:
    if node is True or node == {}:
        return Shape(frozenset({"any"}))
    name = target_name(node)
    if name is not None:
        target = schemas[name]
        return Shape(frozenset({"#" + name})) if "properties" in target else spec_shape(target, schemas)
    shape = Shape()
    for member in node.get("oneOf", []) + node.get("anyOf", []):
        shape |= spec_shape(member, schemas)
    if "const" in node:
        shape |= Shape(values=frozenset({str(node["const"])}))
    if "enum" in node:
        shape |= Shape(values=frozenset(str(v) for v in node["enum"]))
    declared = node.get("type")
    for kind in declared if isinstance(declared, list) else [declared] if declared else []:
        if kind == "null":
            shape |= Shape(nullable=True)
        elif kind == "array":
            shape |= Shape(frozenset({f"array<{spec_shape(node['items'], schemas).spelled()}>"}))
        elif kind == "object":
            extra = spec_shape(node.get("additionalProperties", True), schemas)
            shape |= Shape(frozenset({f"map<{extra.spelled()}>"}))
        else:
            shape |= Shape(frozenset({kind}))
    if not declared and "$ref" not in node and not node.get("oneOf") and not node.get("anyOf"):
        shape |= Shape(frozenset({"any"}))
    return shape


def spec_fields(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, FieldView]:
    required = set(schema.get("required", []))
    return {
        wire: FieldView(spec_shape(prop, schemas), wire in required)
        for wire, prop in schema.get("properties", {}).items()
    }


# ---------------------------------------------------------------------------------- the comparison
def side(required: bool) -> str:
    return "required" if required else "optional"


def compare(
    cls_fields: dict[str, FieldView], is_model: bool, spec: dict[str, FieldView]
) -> Iterator[tuple[str, str]]:
    """(key, what differs) for one SDK class against its spec schema."""
    for wire in sorted(cls_fields.keys() - spec.keys()):
        yield wire, "the SDK has it, the spec does not"
    for wire in sorted(spec.keys() - cls_fields.keys()):
        yield wire, "the spec has it, the SDK does not"
    for wire in sorted(cls_fields.keys() & spec.keys()):
        ours, theirs = spec[wire], cls_fields[wire]
        if ours.required != theirs.required:
            yield (
                f"{wire}.required",
                f"{side(theirs.required)} in the SDK, {side(ours.required)} in the spec",
            )
        # A model field typed Optional only says it may be absent; a TypedDict's Optional means null.
        if ours.shape.nullable != theirs.shape.nullable and (ours.shape.nullable or not is_model):
            yield (
                f"{wire}.nullable",
                f"the SDK {'takes' if theirs.shape.nullable else 'refuses'} null, "
                f"the spec {'takes' if ours.shape.nullable else 'refuses'} it",
            )
        if ours.shape.kinds != theirs.shape.kinds:
            yield (
                f"{wire}.shape",
                f"the SDK: {theirs.shape.spelled()}, the spec: {ours.shape.spelled()}",
            )
        if ours.shape.values != theirs.shape.values:
            only_sdk = sorted(theirs.shape.values - ours.shape.values)
            only_spec = sorted(ours.shape.values - theirs.shape.values)
            yield f"{wire}.values", f"only in the SDK: {only_sdk}, only in the spec: {only_spec}"


def differences(schemas: dict[str, Any]) -> dict[tuple[str, str], Difference]:
    found: dict[tuple[str, str], Difference] = {}
    classes = reachable_classes()
    described = set()
    for key, cls in classes.items():
        name = SCHEMA_OF[key]
        described.add(name)
        pairs = compare(sdk_fields(cls), issubclass(cls, BaseModel), spec_fields(schemas[name], schemas))
        for diff_key, what in pairs:
            difference = found.setdefault((name, diff_key), Difference(name, diff_key))
            difference.found.setdefault(what, set()).add(key)
    for name, schema in schemas.items():
        if "properties" in schema and name not in described:
            found[(name, WHOLE_SCHEMA)] = Difference(name, WHOLE_SCHEMA, {"no SDK class describes it": set()})
    return found


def recorded(schemas: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {
        (name, key): reason
        for name, schema in schemas.items()
        for key, reason in (schema.get("x-sdk-differences") or {}).items()
    }


# ---------------------------------------------------------------------------------- the tests
def test_the_installed_sdk_is_the_pinned_one() -> None:
    pins = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert f"openai=={openai.__version__}" in pins, (
        f"openai {openai.__version__} is installed but requirements-dev.txt pins another version: "
        "run `.venv/bin/pip install -r requirements-dev.txt`"
    )


def test_every_sdk_graders_class_is_mapped_to_a_spec_schema() -> None:
    classes = reachable_classes()
    unmapped = sorted(classes.keys() - SCHEMA_OF.keys())
    assert unmapped == [], f"SDK classes with no spec schema in SCHEMA_OF: {unmapped}"
    stale = sorted(SCHEMA_OF.keys() - classes.keys())
    assert stale == [], f"SCHEMA_OF maps classes the SDK no longer has: {stale}"
    not_objects = sorted({s for s in SCHEMA_OF.values() if "properties" not in SCHEMAS.get(s, {})})
    assert not_objects == [], f"SCHEMA_OF names schemas that are not spec objects: {not_objects}"
    assert len(classes) >= 40, "the SDK's graders types were not found"


def test_every_difference_from_the_sdk_is_recorded_in_the_spec() -> None:
    noted = recorded(SCHEMAS)
    missing = [str(d) for k, d in sorted(differences(SCHEMAS).items()) if k not in noted]
    assert missing == [], (
        "differences from the official SDK that the spec does not record: add the field to the spec, "
        "or an x-sdk-differences entry (key → why) on the schema:\n  " + "\n  ".join(missing)
    )


def test_no_recorded_difference_is_stale() -> None:
    found = differences(SCHEMAS)
    stale = sorted(f"{name}: {key}" for name, key in recorded(SCHEMAS) if (name, key) not in found)
    assert stale == [], f"x-sdk-differences entries the SDK and the spec now agree on: {stale}"


def decision_notes(schemas: dict[str, Any], name: str, wire: str) -> list[str]:
    """The x-decision notes in reach of a field: its schema's, its property's, and its type's."""
    schema = schemas[name]
    notes = [schema.get("x-decision", "")]
    prop = schema.get("properties", {}).get(wire, {})
    notes.append(prop.get("x-decision", ""))
    for node in [prop, *prop.get("anyOf", []), *prop.get("oneOf", [])]:
        target = target_name(node)
        if target is not None:
            notes.append(schemas[target].get("x-decision", ""))
    return [n for n in notes if n]


def test_each_recorded_difference_has_a_reason_and_a_decision_naming_the_field() -> None:
    problems = []
    for (name, key), reason in sorted(recorded(SCHEMAS).items()):
        wire, _, aspect = key.partition(".")
        if key != WHOLE_SCHEMA and aspect not in ("", *ASPECTS):
            problems.append(f"{name}: {key}: the aspect must be one of {ASPECTS}")
        if not isinstance(reason, str) or len(reason.split()) < 6:
            problems.append(f"{name}: {key}: the reason must say why, in a sentence")
        notes = decision_notes(SCHEMAS, name, wire)
        if key == WHOLE_SCHEMA:
            if not notes:
                problems.append(f"{name}: {key}: the schema needs an x-decision note")
        elif not any(re.search(rf"(?<![\w.]){re.escape(wire)}(?!\w)", note) for note in notes):
            problems.append(f"{name}: {key}: no x-decision note in reach names `{wire}`")
    assert problems == []


def test_the_comparison_notices_what_a_changed_spec_loses() -> None:
    schemas = copy.deepcopy(SCHEMAS)
    del schemas["ResponseInputText"]["properties"]["prompt_cache_breakpoint"]
    schemas["ReasoningEffort"]["enum"].remove("max")
    schemas["StringCheckGrader"]["required"].remove("reference")
    schemas["SamplingParams"]["properties"]["seed"]["type"] = "integer"
    schemas["GraderRunResponse"]["properties"]["reward"]["type"] = "integer"
    schemas["PythonGrader"]["properties"]["timeout"] = {"type": "number"}
    found = differences(schemas)
    for expected in [
        ("ResponseInputText", "prompt_cache_breakpoint"),
        ("SamplingParams", "reasoning_effort.values"),
        ("StringCheckGrader", "reference.required"),
        ("SamplingParams", "seed.nullable"),
        ("GraderRunResponse", "reward.shape"),
        ("PythonGrader", "timeout"),
    ]:
        assert expected in found, f"{expected} went unnoticed"
    assert "'max'" in str(found[("SamplingParams", "reasoning_effort.values")])
    assert ("ResponseInputText", "prompt_cache_breakpoint") not in differences(SCHEMAS)


# ---------------------------------------------------------------------------------- what the spec took
def _validator(schema_name: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        "urn:spec", Resource.from_contents(DOC, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{schema_name}"}, registry=registry)


def _score_model_grader(part: dict[str, Any]) -> dict[str, Any]:
    from openai.types.graders.score_model_grader_param import ScoreModelGraderParam

    grader: ScoreModelGraderParam = {
        "type": "score_model",
        "name": "cached judge",
        "model": "o4-mini",
        "input": [{"role": "user", "content": [part, "{{ sample.output_text }}"]}],  # type: ignore[list-item]
    }
    return dict(grader)


def test_a_prompt_cache_breakpoint_built_with_the_sdk_validates_and_round_trips() -> None:
    from openai.types.responses.response_input_text_param import ResponseInputTextParam

    from openai_graders import (
        GraderValidateParams,
        GraderValidateResponse,
        ResponseInputText,
        ResponseInputTextPromptCacheBreakpoint,
        ScoreModelGrader,
    )

    part: ResponseInputTextParam = {
        "type": "input_text",
        "text": "Score the answer from 0 to 1.",
        "prompt_cache_breakpoint": {"mode": "explicit", "ttl": "12h"},
    }
    body = {"grader": _score_model_grader(dict(part))}
    assert list(_validator("GraderValidateParams").iter_errors(body)) == []
    assert gradergen.validate(body) == []
    params = GraderValidateParams.model_validate(body)
    assert params.model_dump(mode="json", by_alias=True, exclude_unset=True) == body
    sdk_response = openai.types.fine_tuning.alpha.GraderValidateResponse.model_validate(body)
    assert sdk_response.model_dump(mode="json", by_alias=True, exclude_unset=True) == body
    ours = GraderValidateResponse.model_validate(body)
    assert ours.model_dump(mode="json", by_alias=True, exclude_unset=True) == body
    assert isinstance(ours.grader, ScoreModelGrader) and isinstance(ours.grader.input[0].content, list)
    parsed = ours.grader.input[0].content[0]
    assert isinstance(parsed, ResponseInputText)
    breakpoint_ = ResponseInputTextPromptCacheBreakpoint(mode="explicit", ttl="12h")
    assert parsed.prompt_cache_breakpoint == breakpoint_


def test_an_unknown_prompt_cache_ttl_is_refused_by_the_spec_and_the_validator() -> None:
    part = {"type": "input_text", "text": "t", "prompt_cache_breakpoint": {"mode": "explicit", "ttl": "1h"}}
    body = {"grader": _score_model_grader(part)}
    assert list(_validator("GraderValidateParams").iter_errors(body))
    problems = [p for p in gradergen.validate(body) if p.severity == "error"]
    assert [p.pointer for p in problems] == ["/grader/input/0/content/0/prompt_cache_breakpoint/ttl"]
    assert "30m" in problems[0].message and "12h" in problems[0].message

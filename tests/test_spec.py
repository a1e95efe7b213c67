"""The canonical spec: valid OpenAPI 3.1, every schema named, every contradiction resolved on purpose."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gradergen.ir.build import build_ir

from harness import SPEC, fixture_index, load_fixture

DOC: dict[str, Any] = yaml.safe_load(SPEC.read_text())
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]


def test_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"].startswith("3.1")
    validate(DOC)


def _inline_shapes(node: Any, path: str, top: bool) -> list[str]:
    """Objects with properties, enums and unions that are not a named schema of their own."""
    found: list[str] = []
    if isinstance(node, dict):
        if not top and (
            "properties" in node or "enum" in node or ("oneOf" in node and "null" not in str(node))
        ):
            found.append(path)
        for key, value in node.items():
            if key not in ("x-decision", "examples", "default"):
                found.extend(_inline_shapes(value, f"{path}/{key}", False))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_inline_shapes(value, f"{path}/{i}", False))
    return found


def test_every_object_enum_and_union_is_named() -> None:
    inline = [p for name, schema in SCHEMAS.items() for p in _inline_shapes(schema, name, True)]
    assert inline == []
    for path in DOC["paths"].values():
        assert _inline_shapes(path, "paths", False) == []


@pytest.mark.parametrize("union", ["Grader", "SubGrader", "EvalItemContent", "GraderInputItem"])
def test_unions_have_an_explicit_mapping_matching_the_type_tags(union: str) -> None:
    schema = SCHEMAS[union]
    mapping = schema["discriminator"]["mapping"]
    assert schema["discriminator"]["propertyName"] == "type"
    for tag, ref in mapping.items():
        target = SCHEMAS[ref.rsplit("/", 1)[1]]
        assert target["properties"]["type"]["const"] == tag
        assert {"$ref": ref} in schema["oneOf"]


def test_top_level_union_has_five_members_and_label_model_only_inside_multi() -> None:
    assert [m["$ref"].rsplit("/", 1)[1] for m in SCHEMAS["Grader"]["oneOf"]] == [
        "StringCheckGrader",
        "TextSimilarityGrader",
        "PythonGrader",
        "ScoreModelGrader",
        "MultiGrader",
    ]
    assert "label_model" in SCHEMAS["SubGrader"]["discriminator"]["mapping"]
    assert "multi" not in SCHEMAS["SubGrader"]["discriminator"]["mapping"]
    graders = SCHEMAS["MultiGrader"]["properties"]["graders"]
    assert graders["type"] == "object"
    assert graders["additionalProperties"] == {"$ref": "#/components/schemas/SubGrader"}


@pytest.mark.parametrize(
    "pointer",
    [
        "GraderRunResponseMetadataTokenUsage",
        "GraderRunResponseMetadataErrors",
        "InputImage",
        "MultiGrader",
        "Grader",
        "SubGrader",
        "ReasoningEffort",
        "TextSimilarityGrader",
        "SamplingParams",
        "StringCheckGraderOperation",
    ],
)
def test_each_contradiction_carries_a_decision_note(pointer: str) -> None:
    note = SCHEMAS[pointer].get("x-decision", "")
    assert len(note) > 40, f"{pointer} has no x-decision note"


def test_recorded_defaults() -> None:
    assert SCHEMAS["ScoreModelGrader"]["properties"]["range"]["default"] == [0, 1]
    assert SCHEMAS["SamplingParams"]["properties"]["top_p"]["default"] == 1
    assert SCHEMAS["InputImage"]["properties"]["detail"]["default"] == "auto"


def test_nullable_fields_use_type_lists() -> None:
    errors = SCHEMAS["GraderRunResponseMetadataErrors"]["properties"]
    for name in (
        "python_grader_server_error_type",
        "python_grader_runtime_error_details",
        "model_grader_server_error_details",
    ):
        assert errors[name]["type"] == ["string", "null"]
    token_usage = SCHEMAS["GraderRunResponseMetadataTokenUsage"]["oneOf"]
    assert {"type": "integer"} in token_usage and {"type": "null"} in token_usage
    assert SCHEMAS["InputImage"]["properties"]["file_id"]["type"] == ["string", "null"]


def _validator_for(schema_name: str) -> Draft202012Validator:
    resource = Resource.from_contents(DOC, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:spec", resource)
    return Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{schema_name}"}, registry=registry)


SCHEMA_FOR_KIND = {
    "run_request": "GraderRunParams",
    "validate_request": "GraderValidateParams",
    "run_response": "GraderRunResponse",
    "validate_response": "GraderValidateResponse",
}


@pytest.mark.parametrize("entry", fixture_index(), ids=lambda e: e["file"])
def test_every_documented_example_validates_against_the_spec(entry: dict[str, str]) -> None:
    errors = list(_validator_for(SCHEMA_FOR_KIND[entry["kind"]]).iter_errors(load_fixture(entry["file"])))
    assert errors == [], [e.message for e in errors]


def test_the_seeds_single_grader_multi_form_is_rejected() -> None:
    multi = {
        "type": "multi",
        "name": "m",
        "calculate_output": "x",
        "graders": {"input": "i", "name": "n", "operation": "eq", "reference": "r", "type": "string_check"},
    }
    assert list(_validator_for("Grader").iter_errors(multi))


def test_readme_explains_every_decision() -> None:
    readme = (SPEC.parent.parent / "README.md").read_text()
    named = {pointer.split("/")[3] for pointer, _ in build_ir(DOC).decisions}
    missing = sorted(name for name in named if f"`{name}`" not in readme)
    assert missing == [], f"README's decision table lacks {missing}"

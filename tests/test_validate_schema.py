"""The grader file JSON Schema: derived from the spec, valid draft 2020-12, and agreeing with the corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

import gradergen

from harness import FIXTURES, GENERATED, ROOT, SPEC, fixture_index
from harness import gradergen as run_gradergen

CORPUS = ROOT / "tests" / "validate_corpus"
INVALID: dict[str, dict[str, str]] = json.loads((CORPUS / "invalid.json").read_text())
SCHEMAS: dict[str, Any] = yaml.safe_load(SPEC.read_text())["components"]["schemas"]
GENERATED_SCHEMA = GENERATED / "jsonschema" / "grader.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(GENERATED_SCHEMA.read_text())
    return loaded


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


def test_the_generated_schema_is_draft_2020_12_and_current(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "DO NOT EDIT" in schema["$comment"]
    assert schema == gradergen.grader_schema()


GRADERS = {
    "StringCheckGrader",
    "TextSimilarityGrader",
    "PythonGrader",
    "ScoreModelGrader",
    "LabelModelGrader",
    "MultiGrader",
}


def test_every_spec_object_enum_and_tag_reaches_the_schema(schema: dict[str, Any]) -> None:
    defs = schema["$defs"]
    for name in ("Grader", "SubGrader", "EvalItemContent", "GraderInputItem"):
        tags = set(SCHEMAS[name]["discriminator"]["mapping"])
        dispatch = defs[name] if "properties" in defs[name] else defs[name]["allOf"][-1]["then"]
        assert set(dispatch["properties"]["type"]["enum"]) == tags, name
    for name, spec in SCHEMAS.items():
        if name not in defs:
            continue
        if "enum" in spec:
            assert defs[name]["enum"] == spec["enum"], name
        if "properties" in spec:
            assert list(defs[name]["properties"]) == list(spec["properties"]), name
            required = spec.get("required", [])
            if name in GRADERS:  # the one documented difference: the service runs graders without a name
                assert "name" in required, name
                required = [r for r in required if r != "name"]
                assert "gradergen validate` warns" in defs[name]["properties"]["name"]["description"]
            assert defs[name].get("required", []) == required, name
    assert set(defs) >= GRADERS | {"GraderRunParams", "GraderValidateParams"}
    assert "GraderRunResponse" not in defs  # responses are not grader files


def test_the_schema_follows_a_changed_spec(tmp_path: Path) -> None:
    spec = yaml.safe_load(SPEC.read_text())
    spec["components"]["schemas"]["StringCheckGraderOperation"]["enum"].append("regex")
    changed = tmp_path / "spec.yaml"
    changed.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = run_gradergen(
        "generate", "--spec", str(changed), "--lang", "jsonschema", "--out", str(tmp_path / "out")
    )
    assert result.returncode == 0, result.stderr
    regenerated = json.loads((tmp_path / "out" / "grader.schema.json").read_text())
    assert regenerated["$defs"]["StringCheckGraderOperation"]["enum"] == [
        "eq",
        "ne",
        "like",
        "ilike",
        "regex",
    ]


def test_documented_request_bodies_validate(validator: Draft202012Validator) -> None:
    requests = [e for e in fixture_index() if e["kind"] in ("run_request", "validate_request")]
    assert requests
    for entry in requests:
        body = json.loads((FIXTURES / entry["file"]).read_text())
        assert list(validator.iter_errors(body)) == [], entry["file"]
        assert list(validator.iter_errors(body["grader"])) == [], entry["file"]


def test_valid_corpus_passes_plain_jsonschema(validator: Draft202012Validator) -> None:
    for path in sorted((CORPUS / "valid").glob("*.json*")):
        lines = path.read_text().splitlines() if path.suffix == ".jsonl" else [path.read_text()]
        for text in lines:
            assert list(validator.iter_errors(json.loads(text))) == [], path.name


SCHEMA_CASES = sorted(
    n
    for n, e in INVALID.items()
    if e["code"].startswith("schema.") or e["code"] in ("placement", "multi-graders")
)


@pytest.mark.parametrize("name", SCHEMA_CASES, ids=lambda n: n.removesuffix(".json"))
def test_plain_jsonschema_rejects_schema_breaking_cases_at_the_same_place(
    validator: Draft202012Validator, name: str
) -> None:
    doc = json.loads((CORPUS / "invalid" / name).read_text())
    pointers = {"".join(f"/{p}" for p in e.absolute_path) for e in validator.iter_errors(doc)}
    expected = INVALID[name]["pointer"]
    assert any(p == expected or p.startswith(expected + "/") for p in pointers), pointers


def test_the_strict_schema_refuses_unknown_properties() -> None:
    doc = json.loads((CORPUS / "warnings" / "pass_threshold.json").read_text())
    assert Draft202012Validator(gradergen.grader_schema()).is_valid(doc)
    assert not Draft202012Validator(gradergen.grader_schema(strict=True)).is_valid(doc)


def test_editor_hover_text_comes_from_the_spec(schema: dict[str, Any]) -> None:
    operation = schema["$defs"]["StringCheckGraderOperation"]
    assert operation["description"] == SCHEMAS["StringCheckGraderOperation"]["description"]
    assert operation["enumDescriptions"] == SCHEMAS["StringCheckGraderOperation"]["x-enum-descriptions"]

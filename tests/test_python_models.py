"""The generated pydantic models: every documented example round-trips; responses are forward-compatible."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import openai_graders as og

from harness import BIN, GENERATED, ROOT, fixture_index, json_equal, load_fixture, run

MODEL_FOR_KIND: dict[str, type[BaseModel]] = {
    "run_request": og.GraderRunParams,
    "validate_request": og.GraderValidateParams,
    "run_response": og.GraderRunResponse,
    "validate_response": og.GraderValidateResponse,
}


def dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def walk_models(value: Any) -> list[BaseModel]:
    found: list[BaseModel] = []
    if isinstance(value, BaseModel):
        found.append(value)
        for name in value.model_fields_set:
            found.extend(walk_models(getattr(value, name, None)))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(walk_models(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(walk_models(item))
    return found


@pytest.mark.parametrize("entry", fixture_index(), ids=lambda e: e["file"])
def test_documented_example_round_trips_strictly(entry: dict[str, str]) -> None:
    data = load_fixture(entry["file"])
    model = MODEL_FOR_KIND[entry["kind"]].model_validate(data, strict=True)
    # a documented example must be understood completely: no fallback member, no unknown property
    for part in walk_models(model):
        assert not type(part).__name__.startswith("Unknown"), f"{entry['file']}: {type(part).__name__}"
        assert not part.model_extra, f"{entry['file']}: unknown properties {part.model_extra}"
    assert json_equal(dump(model), data)


def test_documented_requests_parse_into_the_documented_variants() -> None:
    text = og.GraderRunParams.model_validate(load_fixture("requests/run/002_curl_score_model_text.json"))
    assert isinstance(text.grader, og.ScoreModelGrader)
    assert text.grader.sampling_params is not None and text.grader.sampling_params.seed == 42
    image = og.GraderRunParams.model_validate(load_fixture("requests/run/002_curl_score_model_image.json"))
    assert isinstance(image.grader, og.ScoreModelGrader)
    content = image.grader.input[0].content
    assert isinstance(content, list)
    assert isinstance(content[0], og.ResponseInputText) and isinstance(content[1], og.InputImage)
    assert content[1].file_id is None and "file_id" in content[1].model_fields_set
    audio = og.GraderRunParams.model_validate(load_fixture("requests/run/002_curl_score_model_audio.json"))
    assert isinstance(audio.grader, og.ScoreModelGrader)
    part = audio.grader.input[0].content[1]  # type: ignore[index]
    assert isinstance(part, og.ResponseInputAudio) and part.input_audio.format == "mp3"


def test_live_response_keeps_nulls_and_the_token_usage_object() -> None:
    data = load_fixture("responses/run/002_score_model_live.json")
    response = og.GraderRunResponse.model_validate(data)
    errors = response.metadata.errors
    assert errors.python_grader_server_error_type is None
    assert errors.python_grader_runtime_error_details is None
    assert errors.model_grader_server_error_details is None
    usage = response.metadata.token_usage
    assert isinstance(usage, og.ModelTokenUsage) and usage.total_tokens == 324
    dumped = dump(response)
    assert dumped["metadata"]["errors"]["python_grader_server_error_type"] is None
    assert json_equal(dumped, data)


@pytest.mark.parametrize(
    "usage", [0, 17, {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}, None]
)
def test_token_usage_accepts_integer_object_and_null(usage: Any) -> None:
    data = copy.deepcopy(load_fixture("responses/run/000_cli.json"))
    data["metadata"]["token_usage"] = usage
    assert json_equal(dump(og.GraderRunResponse.model_validate(data)), data)


def test_absent_optional_fields_stay_absent() -> None:
    data = copy.deepcopy(load_fixture("responses/run/000_cli.json"))
    del data["metadata"]["token_usage"]
    del data["metadata"]["sampled_model_name"]
    dumped = dump(og.GraderRunResponse.model_validate(data))
    assert "token_usage" not in dumped["metadata"] and "sampled_model_name" not in dumped["metadata"]
    assert json_equal(dumped, data)


STRING_CHECK = {"input": "i", "name": "n", "operation": "eq", "reference": "r", "type": "string_check"}


@pytest.mark.parametrize(
    "grader",
    [
        {**STRING_CHECK, "operation": "startswith"},  # an enum value added after this version
        {**STRING_CHECK, "pass_threshold": 0.5},  # an unknown property
        {"type": "rubric", "name": "r", "criteria": [{"weight": 2, "text": None}]},  # an unknown grader
        {"type": "multi", "name": "m", "calculate_output": "a", "graders": {"a": {"type": "new_kind"}}},
        {
            "type": "score_model",
            "name": "s",
            "model": "m",
            "input": [{"role": "critic", "content": [{"type": "input_file", "file_id": "f"}]}],
        },
    ],
    ids=["unknown-enum", "unknown-property", "unknown-grader", "unknown-subgrader", "unknown-role-and-part"],
)
def test_validate_response_keeps_what_it_does_not_know(grader: dict[str, Any]) -> None:
    data = {"grader": grader, "warnings": ["added later"]}
    response = og.GraderValidateResponse.model_validate(data)
    assert response.grader is not None and response.grader.type == grader["type"]
    assert json_equal(dump(response), data)


def test_unknown_grader_is_the_fallback_and_known_graders_stay_typed() -> None:
    unknown = og.GraderValidateResponse.model_validate({"grader": {"type": "rubric", "x": 1}})
    assert isinstance(unknown.grader, og.UnknownGrader)
    known = og.GraderValidateResponse.model_validate({"grader": {**STRING_CHECK, "extra": True}})
    assert isinstance(known.grader, og.StringCheckGrader)
    assert known.grader.model_extra == {"extra": True}


def test_run_response_keeps_unknown_properties_everywhere() -> None:
    data = copy.deepcopy(load_fixture("responses/run/002_score_model_live.json"))
    data["trace_id"] = "t"
    data["metadata"]["grader_version"] = 3
    data["metadata"]["errors"]["new_error"] = False
    data["metadata"]["token_usage"]["reasoning_tokens"] = 7
    assert json_equal(dump(og.GraderRunResponse.model_validate(data)), data)


@pytest.mark.parametrize(
    "grader",
    [
        {**STRING_CHECK, "operation": "neq"},
        {**STRING_CHECK, "type": "rubric"},
        {k: v for k, v in STRING_CHECK.items() if k != "reference"},
        {
            "type": "label_model",
            "name": "l",
            "model": "m",
            "input": [],
            "labels": ["a"],
            "passing_labels": ["a"],
        },
        {"type": "score_model", "name": "s", "model": "m", "input": [], "range": [0, 1, 2]},
    ],
    ids=["bad-enum", "unknown-type", "missing-field", "label-model-at-top-level", "three-number-range"],
)
def test_request_models_are_strict(grader: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        og.GraderValidateParams.model_validate({"grader": grader})


def test_multi_grader_takes_a_map_of_graders() -> None:
    multi = {
        "type": "multi",
        "name": "m",
        "calculate_output": "(a + b) / 2",
        "graders": {
            "a": STRING_CHECK,
            "b": {
                "type": "label_model",
                "name": "l",
                "model": "gpt-4o",
                "input": [{"role": "user", "content": "{{ item.text }}"}],
                "labels": ["good", "bad"],
                "passing_labels": ["good"],
            },
        },
    }
    params = og.GraderValidateParams.model_validate({"grader": multi})
    assert isinstance(params.grader, og.MultiGrader)
    assert isinstance(params.grader.graders["b"], og.LabelModelGrader)
    assert json_equal(dump(params), {"grader": multi})
    with pytest.raises(ValidationError):  # the seeds' single-grader form is what the service rejects
        og.GraderValidateParams.model_validate({"grader": {**multi, "graders": STRING_CHECK}})


def test_constructing_models_in_python() -> None:
    grader = og.StringCheckGrader(type="string_check", name="n", input="i", reference="r", operation="eq")
    params = og.GraderRunParams(grader=grader, model_sample="s")
    assert dump(params) == {"grader": STRING_CHECK | {"input": "i"}, "model_sample": "s"}
    error = og.ErrorObject(code=None, message="m", additional_info={"k": 1})
    assert dump(error) == {"code": None, "message": "m", "additionalInfo": {"k": 1}}


def test_models_import_without_warnings() -> None:
    # fields named model_* (model, model_sample, ...) must not trip pydantic's protected namespace
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import openai_graders, openai_graders.cli"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_generated_python_passes_mypy_strict_and_ruff() -> None:
    package = GENERATED / "python"
    usage = ROOT / "tests" / "python" / "typed_usage.py"
    run([str(BIN / "mypy"), "--strict", "--no-incremental", str(package / "src"), str(usage)], cwd=package)
    run([str(BIN / "ruff"), "check", "--no-cache", "."], cwd=package)
    run([str(BIN / "ruff"), "format", "--check", "--no-cache", "--line-length", "100", "."], cwd=package)

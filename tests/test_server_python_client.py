"""Our generated Python client (`openai_graders`) against `gradergen serve` instead of the mock: a run
and a validate of every grader type in fixtures/server/every_grader_type.json, parsed into the
client's own models, and the errors it raises from the server's envelopes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

import openai_graders as og

from conftest import SERVER_API_KEY
from graders_server import GradersServer
from harness import FIXTURES

CASES = json.loads((FIXTURES / "server" / "every_grader_type.json").read_text())
GRADER_CLASSES = {
    "string_check": og.StringCheckGrader,
    "text_similarity": og.TextSimilarityGrader,
    "python": og.PythonGrader,
    "score_model": og.ScoreModelGrader,
    "label_model": og.LabelModelGrader,
    "multi": og.MultiGrader,
}


@pytest.fixture
def client(graders_server: GradersServer) -> og.Client:
    return og.Client(api_key=SERVER_API_KEY, base_url=graders_server.url, max_retries=0, timeout=60)


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_run_of_every_grader_type(client: og.Client, case: dict[str, Any]) -> None:
    response = client.fine_tuning.alpha.graders.run(**case["body"])
    assert isinstance(response, og.GraderRunResponse)
    assert response.reward == pytest.approx(case["reward"], abs=1e-12)
    errors = response.metadata.errors.model_dump(mode="json")
    assert sorted(k for k, v in errors.items() if v is True) == case["flags"]
    assert response.metadata.type == case["body"]["grader"]["type"]
    assert response.sub_rewards == case.get("sub_rewards", {})
    if "sampled_model_name" in case:
        assert response.metadata.sampled_model_name == case["sampled_model_name"]
    if "runtime_details_contain" in case:
        assert case["runtime_details_contain"] in (errors["python_grader_runtime_error_details"] or "")
    if "total_tokens" in case:
        usage = response.metadata.token_usage
        assert usage is not None and usage.total_tokens == case["total_tokens"]


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_validate_of_every_grader_type(client: og.Client, case: dict[str, Any]) -> None:
    grader = case["body"]["grader"]
    checked = client.fine_tuning.alpha.graders.validate(grader=grader)
    assert isinstance(checked.grader, GRADER_CLASSES[grader["type"]])  # the multi included
    assert checked.grader.model_dump(mode="json", exclude_unset=True) == grader


def test_a_well_typed_invalid_grader_raises_bad_request_with_the_param(client: og.Client) -> None:
    invalid = CASES["invalid_formula"]
    with pytest.raises(og.BadRequestError) as caught:
        client.fine_tuning.alpha.graders.validate(**invalid["body"])
    error = caught.value
    assert (error.status_code, error.code) == (invalid["status"], invalid["code"])
    assert error.param == invalid["param"]
    assert invalid["message_contains"] in error.message
    assert error.body["error"]["type"] == "invalid_request_error"


def test_an_operation_outside_the_enum_is_refused_before_sending(
    client: og.Client, graders_server: GradersServer
) -> None:
    before = len(graders_server.access_log())
    with pytest.raises(ValidationError, match="operation"):
        client.fine_tuning.alpha.graders.validate(**CASES["invalid"]["body"])
    assert len(graders_server.access_log()) == before


def test_the_server_refuses_it_too_when_sent_raw(client: og.Client) -> None:
    invalid = CASES["invalid"]
    with pytest.raises(og.BadRequestError) as caught:
        client.post("/fine_tuning/alpha/graders/validate", invalid["body"], og.GraderValidateResponse)
    assert caught.value.param == invalid["param"]
    assert invalid["message_contains"] in caught.value.message


def test_a_wrong_key_raises_authentication_error(graders_server: GradersServer) -> None:
    wrong = og.Client(api_key="sk-wrong", base_url=graders_server.url, max_retries=0)
    with pytest.raises(og.AuthenticationError) as caught:
        wrong.fine_tuning.alpha.graders.validate(grader=CASES["cases"][0]["body"]["grader"])
    assert (caught.value.status_code, caught.value.code) == (401, "invalid_api_key")

"""The official `openai` Python package (pinned, openai==3.57.0) against `gradergen serve`: the 003
Python example verbatim (the base URL from OPENAI_BASE_URL, which the package reads), a run and a
validate of every grader type, and the errors it raises from our envelopes. What the package gets wrong
about these endpoints is pinned here too, so that the README's account of it stays true."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import openai
import pytest

from conftest import SERVER_API_KEY
from graders_server import GradersServer
from harness import FIXTURES

CASES = json.loads((FIXTURES / "server" / "every_grader_type.json").read_text())
EXAMPLE = FIXTURES / "examples" / "003_python_validate.py"


@pytest.fixture
def client(graders_server: GradersServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=graders_server.url, api_key=SERVER_API_KEY, max_retries=0)


def test_the_documented_example_runs_verbatim(graders_server: GradersServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env |= {"OPENAI_BASE_URL": graders_server.url, "OPENAI_API_KEY": SERVER_API_KEY}
    command = [sys.executable, str(EXAMPLE)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "StringCheckGrader(input='input', name='name', operation='eq', reference='reference', "
        "type='string_check')\n"
    )
    last = [line for line in graders_server.access_log() if line["path"].endswith("/validate")][-1]
    assert (last["status"], last["grader_type"]) == (200, "string_check")


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_run_of_every_grader_type(client: openai.OpenAI, case: dict[str, Any]) -> None:
    response = client.fine_tuning.alpha.graders.run(**case["body"])
    assert response.reward == pytest.approx(case["reward"], abs=1e-12)
    errors = response.metadata.errors
    set_flags = sorted(k for k, v in errors.model_dump().items() if v is True)
    assert set_flags == case["flags"]
    assert response.metadata.type == case["body"]["grader"]["type"]
    assert response.sub_rewards == case.get("sub_rewards", {})
    if "sampled_model_name" in case:
        assert response.metadata.sampled_model_name == case["sampled_model_name"]
    if "runtime_details_contain" in case:
        assert case["runtime_details_contain"] in (errors.python_grader_runtime_error_details or "")


@pytest.mark.parametrize("case", [c for c in CASES["cases"] if c["name"] != "multi"], ids=lambda c: c["name"])
def test_validate_of_every_grader_type(client: openai.OpenAI, case: dict[str, Any]) -> None:
    grader = case["body"]["grader"]
    checked = client.fine_tuning.alpha.graders.validate(grader=grader)
    assert checked.grader is not None
    assert checked.grader.type == grader["type"]
    assert checked.grader.to_dict(exclude_unset=True) == grader


def test_an_invalid_grader_raises_bad_request_with_the_param(client: openai.OpenAI) -> None:
    invalid = CASES["invalid"]
    with pytest.raises(openai.BadRequestError) as raised:
        client.fine_tuning.alpha.graders.validate(**invalid["body"])
    error = raised.value
    assert (error.status_code, error.code) == (invalid["status"], invalid["code"])
    assert error.param == invalid["param"]
    assert invalid["message_contains"] in error.message
    assert error.type == "invalid_request_error"


def test_a_wrong_key_raises_authentication_error(graders_server: GradersServer) -> None:
    wrong = openai.OpenAI(base_url=graders_server.url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as raised:
        wrong.fine_tuning.alpha.graders.validate(grader=CASES["cases"][0]["body"]["grader"])
    assert (raised.value.status_code, raised.value.code) == (401, "invalid_api_key")


# ----------------------------------------------------------------------------- what the package gets wrong
def test_the_package_reads_a_multi_grader_back_as_the_wrong_type(client: openai.OpenAI) -> None:
    """The service (and our server) echo the multi grader's map of graders; the package's union has
    no member with a map, so its lenient parse picks StringCheckGrader, with the map as an extra."""
    grader = next(c for c in CASES["cases"] if c["name"] == "multi")["body"]["grader"]
    raw = client.fine_tuning.alpha.graders.with_raw_response.validate(grader=grader)
    assert json.loads(raw.text) == {"grader": grader}  # the server's answer is right
    parsed = raw.parse().grader
    assert type(parsed).__name__ == "StringCheckGrader" and parsed.type == "multi"
    assert parsed.input is None and isinstance(parsed.graders, dict)  # type: ignore[union-attr]


def test_the_package_types_token_usage_as_a_number(client: openai.OpenAI) -> None:
    """token_usage is an object on the live service; the package declares an int and hands the
    object through untyped."""
    score = next(c for c in CASES["cases"] if c["name"] == "score_model")["body"]
    response = client.fine_tuning.alpha.graders.run(**score)
    field = type(response.metadata).model_fields["token_usage"]
    assert "int" in str(field.annotation)
    assert response.metadata.token_usage == {  # type: ignore[comparison-overlap]
        "prompt_tokens": 10, "total_tokens": 15, "completion_tokens": 5, "cached_tokens": 0
    }  # fmt: skip

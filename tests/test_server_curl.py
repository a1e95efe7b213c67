"""The 002 and 003 curl examples through curl itself, against `gradergen serve`: the documented bodies
byte for byte (`-d @file`), the documented headers, only the host changed. Model graders are answered
by the fake models (gpt-5-mini 1.0, gpt-audio 0.9); what the engine sent them is checked too."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from conftest import SERVER_API_KEY
from graders_server import GradersServer
from harness import FIXTURES, require_tool

FLAGS_OFF = {
    "formula_parse_error": False, "sample_parse_error": False, "truncated_observation_error": False,
    "unresponsive_reward_error": False, "invalid_variable_error": False, "other_error": False,
    "python_grader_server_error": False, "python_grader_server_error_type": None,
    "python_grader_runtime_error": False, "python_grader_runtime_error_details": None,
    "model_grader_server_error": False, "model_grader_refusal_error": False,
    "model_grader_parse_error": False, "model_grader_server_error_details": None,
}  # fmt: skip


def curl(server: GradersServer, operation: str, body_file: str) -> tuple[int, Any]:
    command = [
        require_tool("curl"), "-sS", "-X", "POST", server.endpoint(operation),
        "-H", "Content-Type: application/json",
        "-H", f"Authorization: Bearer {SERVER_API_KEY}",
        "-d", f"@{FIXTURES / body_file}",
        "-w", "\n%{http_code}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(text)


@pytest.mark.parametrize(
    ("body_file", "model", "reward", "text_ends", "part"),
    [
        ("requests/run/002_curl_score_model_text.json", "gpt-5-mini", 1.0,
         "Reference answer: fuzzy wuzzy was a bear\n\nModel answer: fuzzy wuzzy was a bear", None),
        ("requests/run/002_curl_score_model_image.json", "gpt-5-mini", 1.0,
         "\n\nCaption: A dog leaps to grab a tennis ball mid-air",
         {"type": "image_url",
          "image_url": {"url": "https://example.com/dog-catching-ball.png", "detail": "high"}}),
        ("requests/run/002_curl_score_model_audio.json", "gpt-audio", 0.9,
         "that the speaker said: Please deliver the package on Tuesday",
         {"type": "input_audio", "input_audio": {"data": "<base64-encoded mp3>", "format": "mp3"}}),
    ],
)  # fmt: skip
def test_the_002_run_bodies(
    graders_server: GradersServer,
    fake_models: Any,
    body_file: str,
    model: str,
    reward: float,
    text_ends: str,
    part: Any,
) -> None:
    asked = len(fake_models.chat_requests())
    status, answer = curl(graders_server, "run", body_file)
    assert status == 200, answer
    sent = json.loads((FIXTURES / body_file).read_text())
    assert answer["reward"] == reward
    metadata = answer["metadata"]
    assert (metadata["name"], metadata["type"]) == (sent["grader"]["name"], "score_model")
    assert metadata["errors"] == FLAGS_OFF
    assert metadata["sampled_model_name"] == model
    assert answer["model_grader_token_usage_per_model"] == {
        model: {"prompt_tokens": 10, "total_tokens": 15, "completion_tokens": 5, "cached_tokens": 0}
    }
    (request,) = fake_models.chat_requests()[asked:]
    assert request["model"] == model
    content = request["messages"][0]["content"]
    assert content[0]["type"] == "text" and content[0]["text"].endswith(text_ends)
    if part is not None:
        assert content[1] == part
    params = sent["grader"]["sampling_params"]
    assert {k: request[k] for k in params} == params


def test_the_003_validate_body(graders_server: GradersServer) -> None:
    status, answer = curl(graders_server, "validate", "requests/validate/003_curl.json")
    assert status == 200
    assert answer == json.loads((FIXTURES / "requests" / "validate" / "003_curl.json").read_text())


def test_curl_sees_the_envelope_of_an_invalid_body(graders_server: GradersServer, tmp_path: Any) -> None:
    body = tmp_path / "bad.json"
    body.write_text('{"grader": {"type": "string_check", "name": "x", "input": "a", "reference": "b", '
                    '"operation": "gt"}}')  # fmt: skip
    status, answer = curl(graders_server, "validate", str(body))
    assert status == 400
    assert answer["error"]["param"] == "grader.operation"
    assert answer["error"]["code"] == "invalid_request_body"

"""The CLI binding: `gradergen api fine-tuning:alpha:graders run|validate`, shaped like the documented CLI."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from harness import BIN, FIXTURES, json_equal, load_fixture
from mock_server import MockServer


def documented_command(name: str) -> list[str]:
    """The documented `openai ...` command, verbatim, as an argv without the program name."""
    text = (FIXTURES / "examples" / name).read_text().replace("\\\n", " ")
    argv = shlex.split(text)
    assert argv[0] == "openai"
    return argv[1:]


def gradergen_api(
    args: list[str], base_url: str | None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(extra_env or {})
    base = ["--base-url", base_url] if base_url else []
    return subprocess.run(
        [str(BIN / "gradergen"), "api", *args, *base], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize(
    ("example", "request_fixture", "response_fixture"),
    [
        ("000_cli_run.sh", "requests/run/000_cli.json", "responses/run/000_cli.json"),
        ("000_cli_validate.sh", "requests/validate/000_cli.json", "responses/validate/000_cli.json"),
    ],
)
def test_documented_cli_examples(
    example: str, request_fixture: str, response_fixture: str, mock_server: MockServer
) -> None:
    result = gradergen_api(documented_command(example), mock_server.url)
    assert result.returncode == 0, result.stderr
    assert json_equal(json.loads(result.stdout), load_fixture(response_fixture))
    (request,) = mock_server.requests
    assert request["headers"]["authorization"] == "Bearer My API Key"
    assert json_equal(request["json"], load_fixture(request_fixture))


def test_item_and_json_grader(mock_server: MockServer) -> None:
    grader = json.dumps(load_fixture("requests/run/002_curl_score_model_image.json")["grader"])
    args = [
        "fine-tuning:alpha:graders",
        "run",
        "--grader",
        grader,
        "--model-sample",
        '{"a": 1}',
        "--item",
        "{expected_caption: A golden retriever}",
        "--api-key",
        "k",
    ]
    result = gradergen_api(args, mock_server.url)
    assert result.returncode == 0, result.stderr
    body = mock_server.requests[0]["json"]
    assert body["model_sample"] == '{"a": 1}'  # a string flag stays a string, even when it looks like JSON
    assert body["item"] == {"expected_caption": "A golden retriever"}
    assert body["grader"]["input"][0]["content"][1]["file_id"] is None


def test_environment_supplies_key_and_base_url(mock_server: MockServer) -> None:
    args = documented_command("000_cli_validate.sh")
    args = args[: args.index("--api-key")] + args[args.index("--api-key") + 2 :]
    result = gradergen_api(args, None, {"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": mock_server.url})
    assert result.returncode == 0, result.stderr
    assert mock_server.requests[0]["headers"]["authorization"] == "Bearer sk-env"


@pytest.mark.parametrize(
    ("grader", "message"),
    [
        ("{input: input, name: [", "argument --grader: not valid JSON or YAML at line 1"),
        (
            "{input: i, name: n, operation: neq, reference: r, type: string_check}",
            "/grader/string_check/operation",
        ),
    ],
)
def test_bad_grader_is_a_usage_error(grader: str, message: str, mock_server: MockServer) -> None:
    result = gradergen_api(
        ["fine-tuning:alpha:graders", "validate", "--grader", grader, "--api-key", "k"], mock_server.url
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert mock_server.requests == []


def test_api_error_prints_the_envelope_and_exits_1(mock_server: MockServer) -> None:
    envelope = load_fixture("errors/400_invalid_grader.json")
    mock_server.enqueue(400, envelope)
    result = gradergen_api(documented_command("000_cli_validate.sh"), mock_server.url)
    assert result.returncode == 1
    assert envelope["error"]["message"] in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_api_key(mock_server: MockServer) -> None:
    result = gradergen_api(
        ["fine-tuning:alpha:graders", "validate", "--grader", "{type: python}"], mock_server.url
    )
    assert result.returncode == 1
    assert "OPENAI_API_KEY" in result.stderr


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    args = [*documented_command("000_cli_validate.sh"), "--max-retries", "0"]
    result = gradergen_api(args, "http://127.0.0.1:9/v1")
    assert result.returncode == 1
    assert "Connection error" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--timeout", "0", "must be more than 0 seconds"),
        ("--timeout", "soon", "not a number of seconds"),
        ("--max-retries", "-1", "must be 0 or more"),
    ],
)
def test_bad_connection_flags_are_usage_errors(flag: str, value: str, message: str) -> None:
    args = ["fine-tuning:alpha:graders", "validate", "--grader", "{type: python}", "--api-key", "k"]
    result = gradergen_api([*args, flag, value], "http://127.0.0.1:9/v1")
    assert result.returncode == 2
    assert f"argument {flag}: {message}" in result.stderr and "Traceback" not in result.stderr


def test_help_lists_the_flags() -> None:
    result = gradergen_api(["fine-tuning:alpha:graders", "run", "--help"], None)
    assert result.returncode == 0
    for flag in ("--grader", "--model-sample", "--item", "--api-key", "--base-url"):
        assert flag in result.stdout

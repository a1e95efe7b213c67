"""The generated Python client against the mock API: documented calls, retries, errors, timeouts."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import ValidationError

import openai_graders as og
from openai_graders import _client

from harness import FIXTURES, fixtures_of, json_equal, load_fixture
from mock_server import MockServer

STRING_CHECK = {
    "input": "input",
    "name": "name",
    "operation": "eq",
    "reference": "reference",
    "type": "string_check",
}


@pytest.fixture
def client(mock_server: MockServer, monkeypatch: pytest.MonkeyPatch) -> og.Client:
    monkeypatch.setattr(_client, "_backoff", lambda attempt: 0.01)  # the schedule has its own test
    return og.Client(api_key="sk-test", base_url=mock_server.url, timeout=5)


@pytest.mark.parametrize("entry", fixtures_of("run_request"), ids=lambda e: e["file"])
def test_documented_run_requests_reach_the_server_verbatim(
    entry: dict[str, str], client: og.Client, mock_server: MockServer
) -> None:
    body = load_fixture(entry["file"])
    response = client.fine_tuning.alpha.graders.run(**body)
    assert isinstance(response, og.GraderRunResponse)
    assert json_equal(
        response.model_dump(mode="json", exclude_unset=True), load_fixture("responses/run/000_cli.json")
    )
    (request,) = mock_server.requests
    assert request["path"] == "/v1/fine_tuning/alpha/graders/run"
    assert request["headers"]["authorization"] == "Bearer sk-test"
    assert request["headers"]["content-type"] == "application/json"
    assert json_equal(request["json"], body)


@pytest.mark.parametrize("entry", fixtures_of("validate_request"), ids=lambda e: e["file"])
def test_documented_validate_requests_reach_the_server_verbatim(
    entry: dict[str, str], client: og.Client, mock_server: MockServer
) -> None:
    body = load_fixture(entry["file"])
    response = client.fine_tuning.alpha.graders.validate(**body)
    assert isinstance(response.grader, og.StringCheckGrader)
    (request,) = mock_server.requests
    assert request["path"] == "/v1/fine_tuning/alpha/graders/validate"
    assert json_equal(request["json"], body)


def test_models_and_dicts_send_the_same_body(client: og.Client, mock_server: MockServer) -> None:
    grader = og.StringCheckGrader.model_validate(STRING_CHECK)
    client.fine_tuning.alpha.graders.run(grader=grader, model_sample="model_sample")
    client.fine_tuning.alpha.graders.run(grader=STRING_CHECK, model_sample="model_sample")
    first, second = mock_server.requests
    assert first["json"] == second["json"] == load_fixture("requests/run/000_cli.json")


def test_item_is_sent_only_when_given(client: og.Client, mock_server: MockServer) -> None:
    graders = client.fine_tuning.alpha.graders
    graders.run(grader=STRING_CHECK, model_sample="s")
    graders.run(grader=STRING_CHECK, model_sample="s", item=None)
    graders.run(grader=STRING_CHECK, model_sample="s", item={"label": "x", "n": [1, None]})
    absent, null, given = (r["json"] for r in mock_server.requests)
    assert "item" not in absent
    assert null["item"] is None
    assert given["item"] == {"label": "x", "n": [1, None]}


def test_documented_python_example_runs_with_only_the_import_adapted(mock_server: MockServer) -> None:
    source = (FIXTURES / "examples" / "003_python_validate.py").read_text()
    adapted = source.replace("from openai import OpenAI", "from openai_graders import Client as OpenAI")
    assert adapted.count("\n") == source.count("\n") and adapted != source
    env = {**os.environ, "OPENAI_API_KEY": "sk-doc", "OPENAI_BASE_URL": mock_server.url}
    result = subprocess.run(
        [sys.executable, "-c", adapted], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "string_check" in result.stdout
    (request,) = mock_server.requests
    assert request["headers"]["authorization"] == "Bearer sk-doc"
    assert json_equal(request["json"], load_fixture("requests/validate/003_python.json"))


@pytest.mark.parametrize("statuses", [[429], [500, 503], [408, 409]])
def test_transient_errors_are_retried_then_succeed(
    statuses: list[int], client: og.Client, mock_server: MockServer
) -> None:
    for status in statuses:
        mock_server.enqueue(status)
    response = client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    assert response.grader is not None
    bodies = [r["body"] for r in mock_server.requests]
    assert len(bodies) == len(statuses) + 1 and len(set(bodies)) == 1


def test_retry_after_header_sets_the_wait(client: og.Client, mock_server: MockServer) -> None:
    mock_server.enqueue(429, headers={"retry-after": "0.6"})
    mock_server.enqueue(503, headers={"retry-after-ms": "300"})
    mock_server.enqueue(503, headers={"retry-after": "3600"})  # unreasonable: the usual backoff instead
    client.max_retries = 3
    started = time.monotonic()
    client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    assert 0.9 <= time.monotonic() - started < 2.5
    assert len(mock_server.requests) == 4


def test_retries_stop_after_two(client: og.Client, mock_server: MockServer) -> None:
    for _ in range(3):
        mock_server.enqueue(500)
    with pytest.raises(og.InternalServerError) as caught:
        client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    assert caught.value.status_code == 500
    assert len(mock_server.requests) == 3


def test_connection_errors_are_retried(client: og.Client, mock_server: MockServer) -> None:
    mock_server.enqueue_disconnect()
    assert client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK).grader is not None
    assert len(mock_server.requests) == 2
    for _ in range(3):
        mock_server.enqueue_disconnect()
    with pytest.raises(og.APIConnectionError):
        client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)


def test_bad_request_raises_a_typed_error_without_retrying(
    client: og.Client, mock_server: MockServer
) -> None:
    envelope = load_fixture("errors/400_invalid_grader.json")
    mock_server.enqueue(400, envelope)
    with pytest.raises(og.BadRequestError) as caught:
        client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    error = caught.value
    assert isinstance(error, og.APIStatusError)
    assert error.status_code == 400
    assert error.code == envelope["error"]["code"]
    assert error.message == envelope["error"]["message"]
    assert error.param == envelope["error"]["param"]
    assert error.body == envelope
    assert len(mock_server.requests) == 1


@pytest.mark.parametrize(
    ("status", "cls"), [(401, og.AuthenticationError), (404, og.NotFoundError), (429, og.RateLimitError)]
)
def test_each_status_has_its_error_class(
    status: int, cls: type[og.APIStatusError], mock_server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = og.Client(api_key="k", base_url=mock_server.url, max_retries=0)
    mock_server.enqueue(status)
    with pytest.raises(cls) as caught:
        client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    assert caught.value.status_code == status and caught.value.message


def test_a_server_side_validation_error_names_the_param(client: og.Client, mock_server: MockServer) -> None:
    # the mock validates bodies against the spec; bypass the client's own check to reach it
    bad = {"grader": {**STRING_CHECK, "operation": "neq"}}
    with pytest.raises(og.BadRequestError) as caught:
        client.post("/fine_tuning/alpha/graders/validate", bad, og.GraderValidateResponse)
    assert caught.value.param == "/grader/operation"


def test_timeout_is_honoured(mock_server: MockServer) -> None:
    client = og.Client(api_key="k", base_url=mock_server.url, timeout=0.3, max_retries=0)
    mock_server.enqueue(200, delay=3.0)
    started = time.monotonic()
    with pytest.raises(og.APITimeoutError):
        client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    assert time.monotonic() - started < 2.5


def test_invalid_arguments_are_rejected_before_sending(client: og.Client, mock_server: MockServer) -> None:
    with pytest.raises(ValidationError):
        client.fine_tuning.alpha.graders.run(grader={**STRING_CHECK, "operation": "neq"}, model_sample="s")
    assert mock_server.requests == []


def test_environment_defaults(mock_server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", mock_server.url)
    with og.Client() as client:
        assert client.base_url == mock_server.url
        client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    assert mock_server.requests[0]["headers"]["authorization"] == "Bearer sk-env"
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert og.Client().base_url == og.DEFAULT_BASE_URL == "https://api.openai.com/v1"


def test_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(og.GradersError, match="OPENAI_API_KEY"):
        og.Client()


def test_backoff_grows_exponentially_with_jitter() -> None:
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0]):
        delays = [_client._backoff(attempt) for _ in range(50)]
        assert all(0.75 * ceiling <= d <= ceiling for d in delays)


def test_custom_http_client_is_used(mock_server: MockServer) -> None:
    seen: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda request: seen.append(str(request.url))]})
    client = og.Client(api_key="k", base_url=mock_server.url + "/", http_client=http)
    client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    assert seen == [mock_server.url + "/fine_tuning/alpha/graders/validate"]
    client.close()
    assert not http.is_closed  # the caller's client stays the caller's to close
    http.close()

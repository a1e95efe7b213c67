"""The Python client's features beside the calls themselves (issue 14), asserted on what reached the mock
API: AsyncClient, with_options, per-call extra_headers/extra_query/extra_body/timeout, with_raw_response,
User-Agent, the idempotency key kept across retries, and the request id of an answer and of an error."""

from __future__ import annotations

import asyncio
import platform
import re
import time
from collections.abc import Iterator

import pytest

import openai_graders as og
from openai_graders import _client

from fault_server import FaultServer
from harness import json_equal, load_fixture
from mock_server import MockServer

STRING_CHECK = {
    "input": "input",
    "name": "name",
    "operation": "eq",
    "reference": "reference",
    "type": "string_check",
}
VALIDATE_PATH = "/v1/fine_tuning/alpha/graders/validate"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_client, "_backoff", lambda attempt: 0.01)  # the schedule has its own test


@pytest.fixture
def client(mock_server: MockServer) -> Iterator[og.Client]:
    with og.Client(api_key="sk-test", base_url=mock_server.url, timeout=5) as client:
        yield client


def _async_client(mock_server: MockServer, **settings: object) -> og.AsyncClient:
    return og.AsyncClient(api_key="sk-test", base_url=mock_server.url, **{"timeout": 5, **settings})  # type: ignore[arg-type]


# ------------------------------------------------------------------ what every request carries
def test_user_agent_names_the_package_version_and_python(client: og.Client, mock_server: MockServer) -> None:
    client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    (request,) = mock_server.requests
    assert (
        request["headers"]["user-agent"]
        == f"openai-graders/{og.__version__} python/{platform.python_version()}"
    )


def test_one_idempotency_key_for_every_attempt_of_a_call(client: og.Client, mock_server: MockServer) -> None:
    mock_server.enqueue(500)
    mock_server.enqueue(429)
    client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    keys = [r["headers"]["idempotency-key"] for r in mock_server.requests]
    assert len(keys) == 4
    assert keys[0] == keys[1] == keys[2] != keys[3]
    assert all(re.fullmatch(r"gradergen-[0-9a-f-]{36}", key) for key in keys)


# ------------------------------------------------------------------ per-call options
def test_extra_headers_query_and_body_are_sent(client: og.Client, mock_server: MockServer) -> None:
    client.fine_tuning.alpha.graders.run(
        grader=STRING_CHECK,
        model_sample="s",
        extra_headers={"X-Trace": "t-1", "Idempotency-Key": "mine"},
        extra_query={"dry_run": "1"},
        extra_body={"metadata": {"team": "evals"}, "model_sample": "overridden"},
    )
    (request,) = mock_server.requests
    assert request["path"] == "/v1/fine_tuning/alpha/graders/run?dry_run=1"
    assert request["headers"]["x-trace"] == "t-1"
    assert request["headers"]["idempotency-key"] == "mine"
    assert request["json"] == {
        "grader": STRING_CHECK,
        "model_sample": "overridden",
        "metadata": {"team": "evals"},
    }


def test_a_call_timeout_replaces_the_client_timeout(client: og.Client, mock_server: MockServer) -> None:
    mock_server.enqueue(200, delay=1.0)
    started = time.monotonic()
    with pytest.raises(og.APITimeoutError):
        client.with_options(max_retries=0).fine_tuning.alpha.graders.validate(
            grader=STRING_CHECK, timeout=0.2
        )
    assert time.monotonic() - started < 0.9
    client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK, timeout=3)  # the next call waits again


def test_with_options_changes_a_copy_and_shares_the_connections(
    client: og.Client, mock_server: MockServer
) -> None:
    strict = client.with_options(max_retries=0, default_headers={"X-Team": "evals"})
    assert (strict.max_retries, client.max_retries) == (0, 2)
    assert strict._http is client._http and (strict.api_key, strict.base_url) == (
        client.api_key,
        client.base_url,
    )
    mock_server.enqueue(500)
    with pytest.raises(og.InternalServerError):
        strict.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    assert len(mock_server.requests) == 1  # no retry
    assert mock_server.requests[0]["headers"]["x-team"] == "evals"
    strict.close()  # does not close the connections it shares
    mock_server.enqueue(500)
    client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)  # retried
    assert len(mock_server.requests) == 3
    assert "x-team" not in mock_server.requests[-1]["headers"]


def test_with_options_checks_what_it_is_given(client: og.Client) -> None:
    with pytest.raises(ValueError, match="timeout"):
        client.with_options(timeout=-1)
    with pytest.raises(ValueError, match="timeout"):
        client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK, timeout=0)


# ------------------------------------------------------------------ raw responses and request ids
def test_with_raw_response_gives_status_headers_and_request_id(
    client: og.Client, mock_server: MockServer
) -> None:
    mock_server.enqueue(503)
    raw = client.fine_tuning.alpha.graders.with_raw_response.run(grader=STRING_CHECK, model_sample="s")
    assert isinstance(raw, og.APIResponse)
    assert raw.status_code == 200 and raw.retries_taken == 1
    assert raw.request_id == raw.headers["x-request-id"] == "req_mock_2"
    result = raw.parse()
    assert isinstance(result, og.GraderRunResponse) and raw.parse() is result
    assert json_equal(
        result.model_dump(mode="json", exclude_unset=True), load_fixture("responses/run/000_cli.json")
    )


def test_an_error_carries_the_request_id(client: og.Client, mock_server: MockServer) -> None:
    mock_server.enqueue(400)
    with pytest.raises(og.BadRequestError) as caught:
        client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
    assert caught.value.request_id == "req_mock_1"


def test_a_raw_response_that_is_not_the_model_raises_when_parsed(
    client: og.Client, mock_server: MockServer
) -> None:
    mock_server.enqueue(200, body=[1, 2])
    raw = client.fine_tuning.alpha.graders.with_raw_response.validate(grader=STRING_CHECK)
    assert raw.text == "[1, 2]"
    with pytest.raises(og.APIResponseValidationError, match="not a GraderValidateResponse") as caught:
        raw.parse()
    assert caught.value.request_id == "req_mock_1"


# ------------------------------------------------------------------ AsyncClient
def test_async_client_sends_what_the_blocking_one_sends(mock_server: MockServer) -> None:
    body = load_fixture("requests/run/000_cli.json")

    async def main() -> og.GraderRunResponse:
        async with _async_client(mock_server) as client:
            return await client.fine_tuning.alpha.graders.run(**body)

    result = asyncio.run(main())
    assert json_equal(
        result.model_dump(mode="json", exclude_unset=True), load_fixture("responses/run/000_cli.json")
    )
    (request,) = mock_server.requests
    assert request["path"] == "/v1/fine_tuning/alpha/graders/run"
    assert request["headers"]["authorization"] == "Bearer sk-test"
    assert request["headers"]["user-agent"].startswith("openai-graders/")
    assert json_equal(request["json"], body)


def test_async_client_retries_with_one_idempotency_key_and_raises_typed_errors(
    mock_server: MockServer,
) -> None:
    mock_server.enqueue(500)
    mock_server.enqueue(429, headers={"retry-after-ms": "10"})
    mock_server.enqueue(422)

    async def main() -> og.UnprocessableEntityError:
        async with _async_client(mock_server) as client:
            with pytest.raises(og.UnprocessableEntityError) as caught:
                await client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)
            return caught.value

    error = asyncio.run(main())
    assert error.status_code == 422 and error.request_id == "req_mock_3"
    keys = {r["headers"]["idempotency-key"] for r in mock_server.requests}
    assert len(mock_server.requests) == 3 and len(keys) == 1


def test_async_client_options_and_raw_response(mock_server: MockServer) -> None:
    mock_server.enqueue(200, delay=1.0)

    async def main() -> og.APIResponse[og.GraderValidateResponse]:
        async with _async_client(mock_server) as client:
            strict = client.with_options(max_retries=0)
            assert isinstance(strict, og.AsyncClient) and client.max_retries == 2
            started = time.monotonic()
            with pytest.raises(og.APITimeoutError):
                await strict.fine_tuning.alpha.graders.validate(grader=STRING_CHECK, timeout=0.2)
            assert time.monotonic() - started < 0.9
            return await client.fine_tuning.alpha.graders.with_raw_response.validate(
                grader=STRING_CHECK, extra_headers={"X-Trace": "a"}, extra_body={"note": "n"}
            )

    raw = asyncio.run(main())
    assert raw.status_code == 200 and raw.request_id == "req_mock_2"
    assert isinstance(raw.parse().grader, og.StringCheckGrader)
    sent = mock_server.requests[-1]
    assert sent["headers"]["x-trace"] == "a" and sent["json"]["note"] == "n"


def test_async_client_calls_run_concurrently(mock_server: MockServer) -> None:
    for _ in range(4):
        mock_server.enqueue(200, delay=0.5)

    async def main() -> float:
        async with _async_client(mock_server) as client:
            started = time.monotonic()
            await asyncio.gather(
                *(client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK) for _ in range(4))
            )
            return time.monotonic() - started

    assert asyncio.run(main()) < 1.6  # one after the other would take 2 s
    assert len({r["headers"]["idempotency-key"] for r in mock_server.requests}) == 4


def test_async_deadline_covers_a_dripped_body(fault_server: FaultServer) -> None:
    async def main() -> None:
        async with og.AsyncClient(
            api_key="k", base_url=fault_server.url + "/slow-drip/100/py-async", timeout=0.5, max_retries=0
        ) as client:
            await client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)

    started = time.monotonic()
    with pytest.raises(og.APITimeoutError):
        asyncio.run(main())
    assert time.monotonic() - started < 2


def test_async_client_bounds_the_body(fault_server: FaultServer) -> None:
    async def main() -> None:
        async with og.AsyncClient(
            api_key="k",
            base_url=fault_server.url + "/oversized/py-async",
            max_response_bytes=1024,
            max_retries=0,
        ) as client:
            await client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)

    with pytest.raises(og.APIResponseTooLargeError) as caught:
        asyncio.run(main())
    assert caught.value.limit == 1024


def test_async_client_needs_an_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(og.GradersError, match="AsyncClient or set the OPENAI_API_KEY"):
        og.AsyncClient()

"""The generated Python client against a misbehaving server (tests/fault_server.py): the timeout is one
deadline for the whole attempt, the answer's size is bounded, and every failure is the package's own error.

A test that hangs fails at its pytest-timeout; none of them measures time beyond that.
"""

from __future__ import annotations

import json
import time

import httpx
import pydantic
import pytest

import openai_graders as og
from openai_graders import _client

from fault_server import ANSWER_HEAD, ANSWER_TAIL, HTML_PAGE, FaultServer

pytestmark = pytest.mark.timeout(60)

STRING_CHECK = {
    "input": "input",
    "name": "name",
    "operation": "eq",
    "reference": "reference",
    "type": "string_check",
}
DEFAULT_LIMIT = 32 * 1024 * 1024
"""The documented default of max_response_bytes."""


def client_of(server: FaultServer, base: str, **options: float) -> og.Client:
    settings: dict[str, float] = {"timeout": 10.0, "max_retries": 0, **options}
    return og.Client(api_key="sk-test", base_url=server.url + base, **settings)


def validate(client: og.Client) -> og.GraderValidateResponse:
    return client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK)


def assert_own_error(error: BaseException) -> None:
    """The package's error, and not also one of the libraries' underneath it."""
    assert isinstance(error, og.GradersError)
    assert not isinstance(error, (httpx.HTTPError, json.JSONDecodeError, pydantic.ValidationError, OSError))


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_client, "_backoff", lambda attempt: 0.01)


def test_a_server_that_never_answers_times_out(fault_server: FaultServer) -> None:
    with pytest.raises(og.APITimeoutError) as caught:
        validate(client_of(fault_server, "/never-answers", timeout=1.0))
    assert_own_error(caught.value)


def test_a_body_dripped_a_byte_at_a_time_times_out(fault_server: FaultServer) -> None:
    # one byte every 100 ms: no single read waits as long as the timeout, the whole body takes ~10 s
    with pytest.raises(og.APITimeoutError) as caught:
        validate(client_of(fault_server, "/slow-drip/100", timeout=1.0))
    assert_own_error(caught.value)


def test_a_timed_out_drip_is_retried_and_each_attempt_has_its_own_deadline(
    fault_server: FaultServer,
) -> None:
    with pytest.raises(og.APITimeoutError):
        validate(client_of(fault_server, "/slow-drip/100/retried", timeout=1.0, max_retries=1))
    assert fault_server.hits("/slow-drip/100/retried") == 2


def test_a_timed_out_attempt_hangs_up(fault_server: FaultServer) -> None:
    """The worker left behind at the deadline stops at its next chunk and closes the connection."""
    base = "/slow-drip/100/hang-up"
    with pytest.raises(og.APITimeoutError):
        validate(client_of(fault_server, base, timeout=1.0))
    for _ in range(100):
        if fault_server.busy(base) == 0:
            break
        time.sleep(0.05)
    assert fault_server.busy(base) == 0, "the server is still dripping to the abandoned attempt"


def test_a_drip_that_ends_within_the_timeout_succeeds(fault_server: FaultServer) -> None:
    response = validate(client_of(fault_server, "/slow-drip/5", timeout=20.0))
    assert isinstance(response.grader, og.StringCheckGrader)


def test_a_reset_in_the_middle_of_the_body_is_a_connection_error(fault_server: FaultServer) -> None:
    with pytest.raises(og.APIConnectionError) as caught:
        validate(client_of(fault_server, "/reset-mid-body", max_retries=1))
    assert not isinstance(caught.value, og.APITimeoutError)
    assert_own_error(caught.value)
    assert fault_server.hits("/reset-mid-body") == 2  # retried once, like any connection error


def test_a_gzip_body_that_does_not_decode_is_a_connection_error(fault_server: FaultServer) -> None:
    with pytest.raises(og.APIConnectionError) as caught:
        validate(client_of(fault_server, "/corrupt-gzip", max_retries=1))
    assert not isinstance(caught.value, og.APITimeoutError)
    assert_own_error(caught.value)
    assert fault_server.hits("/corrupt-gzip") == 2  # retried, like a broken connection


def test_an_answer_nested_500_deep_parses(fault_server: FaultServer) -> None:
    grader = validate(client_of(fault_server, "/deep-json/500")).grader
    assert isinstance(grader, og.StringCheckGrader)
    deep = (grader.model_extra or {})["deep"]
    levels = 0
    while isinstance(deep, list) and deep:
        deep, levels = deep[0], levels + 1
    assert (levels, deep) == (499, [])


def test_invalid_json_on_success_is_a_validation_error(fault_server: FaultServer) -> None:
    with pytest.raises(og.APIResponseValidationError) as caught:
        validate(client_of(fault_server, "/invalid-json", max_retries=2))
    assert_own_error(caught.value)
    assert caught.value.status_code == 200
    assert caught.value.body == '{"grader": {"type": "string_check", "name": '
    assert fault_server.hits("/invalid-json") == 1  # not retried: the answer would be the same


def test_json_of_the_wrong_shape_is_a_validation_error(fault_server: FaultServer) -> None:
    with pytest.raises(og.APIResponseValidationError) as caught:
        validate(client_of(fault_server, "/wrong-shape"))
    assert_own_error(caught.value)
    assert caught.value.body == "[1, 2, 3]"
    assert "GraderValidateResponse" in str(caught.value)


@pytest.mark.parametrize("base", ["/oversized", "/oversized-declared"])
def test_an_oversized_body_is_refused_at_the_default_limit(fault_server: FaultServer, base: str) -> None:
    client = client_of(fault_server, base, timeout=30.0, max_retries=2)
    assert client.max_response_bytes == DEFAULT_LIMIT
    with pytest.raises(og.APIResponseTooLargeError) as caught:
        validate(client)
    assert_own_error(caught.value)
    assert (caught.value.limit, caught.value.status_code) == (DEFAULT_LIMIT, 200)
    assert fault_server.hits(base) == 1


def test_the_limit_is_configurable_and_inclusive(fault_server: FaultServer) -> None:
    size = 4096
    assert validate(client_of(fault_server, f"/json-of-size/{size}", max_response_bytes=size)).grader
    with pytest.raises(og.APIResponseTooLargeError) as caught:
        validate(client_of(fault_server, f"/json-of-size/{size}", max_response_bytes=size - 1))
    assert caught.value.limit == size - 1


def test_a_string_of_25_mb_within_the_default_limit_parses(fault_server: FaultServer) -> None:
    size = 25_000_000
    response = validate(client_of(fault_server, f"/json-of-size/{size}", timeout=30.0))
    assert isinstance(response.grader, og.StringCheckGrader)
    assert response.grader.name == "x" * (size - len(ANSWER_HEAD) - len(ANSWER_TAIL))


def test_a_huge_retry_after_is_capped(fault_server: FaultServer) -> None:
    # Retry-After: 99999 is past the 60 s cap, so the client waits its usual backoff and tries again
    response = validate(client_of(fault_server, "/retry-after-huge/retried", max_retries=1))
    assert isinstance(response.grader, og.StringCheckGrader)
    assert fault_server.hits("/retry-after-huge/retried") == 2


def test_a_retry_after_date_is_waited_for(fault_server: FaultServer) -> None:
    # 3 s ahead in whole seconds: the wait is over 2 s, where the first backoff is at most 0.5 s
    began = time.monotonic()
    response = validate(client_of(fault_server, "/retry-after-date/3", max_retries=1))
    waited = time.monotonic() - began
    assert isinstance(response.grader, og.StringCheckGrader)
    assert fault_server.hits("/retry-after-date/3") == 2 and 1.9 <= waited < 10, waited


def test_a_huge_retry_after_without_retries_is_a_rate_limit_error(fault_server: FaultServer) -> None:
    with pytest.raises(og.RateLimitError) as caught:
        validate(client_of(fault_server, "/retry-after-huge/once"))
    assert caught.value.status_code == 429 and caught.value.code == "rate_limit_exceeded"
    assert fault_server.hits("/retry-after-huge/once") == 1


def test_a_400_with_an_html_page_is_a_bad_request_with_the_page(fault_server: FaultServer) -> None:
    with pytest.raises(og.BadRequestError) as caught:
        validate(client_of(fault_server, "/html-400"))
    assert_own_error(caught.value)
    assert caught.value.status_code == 400
    assert caught.value.body == HTML_PAGE
    assert caught.value.code is None


@pytest.mark.parametrize(
    ("option", "value"), [("max_response_bytes", 0), ("timeout", 0.0), ("timeout", -1.0)]
)
def test_unusable_settings_are_refused(option: str, value: float) -> None:
    with pytest.raises(ValueError, match=option):
        og.Client(api_key="k", **{option: value})

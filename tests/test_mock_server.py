"""Tests of the mock graders API server (tests/mock_server.py)."""

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from mock_server import MockServer

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
REAL_SPEC = TESTS.parent / "spec" / "graders.openapi.yaml"
INDEX = json.loads((FIXTURES / "index.json").read_text())

RUN = "/fine_tuning/alpha/graders/run"
VALIDATE = "/fine_tuning/alpha/graders/validate"
AUTH = {"Authorization": "Bearer sk-test"}
URL_RE = r"http://127\.0\.0\.1:\d+/v1"

# A small spec shaped like the real one. The validate body goes through
# components/requestBodies to exercise a $ref'd requestBody.
STANDIN_SPEC = """
openapi: 3.1.0
info: {title: stand-in, version: "0"}
paths:
  /fine_tuning/alpha/graders/run:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/GraderRunParams'}
      responses: {'200': {description: ok}}
  /fine_tuning/alpha/graders/validate:
    post:
      requestBody: {$ref: '#/components/requestBodies/Validate'}
      responses: {'200': {description: ok}}
components:
  requestBodies:
    Validate:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/GraderValidateParams'}
  schemas:
    GraderRunParams:
      type: object
      required: [grader, model_sample]
      properties:
        grader: {$ref: '#/components/schemas/Grader'}
        model_sample: {type: string}
        item: {}
    GraderValidateParams:
      type: object
      required: [grader]
      properties:
        grader: {$ref: '#/components/schemas/Grader'}
    Grader:
      oneOf:
        - $ref: '#/components/schemas/StringCheckGrader'
        - $ref: '#/components/schemas/PythonGrader'
    StringCheckGrader:
      type: object
      required: [input, name, operation, reference, type]
      properties:
        input: {type: string}
        name: {type: string}
        operation: {type: string, enum: [eq, ne, like, ilike]}
        reference: {type: string}
        type: {type: string, const: string_check}
    PythonGrader:
      type: object
      required: [name, source, type]
      properties:
        name: {type: string}
        source: {type: string}
        type: {type: string, const: python}
"""

STRING_CHECK = {
    "input": "input",
    "name": "name",
    "operation": "eq",
    "reference": "reference",
    "type": "string_check",
}


def fixture(rel):
    return json.loads((FIXTURES / rel).read_text())


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "standin.openapi.yaml"
    path.write_text(STANDIN_SPEC)
    return path


@pytest.fixture
def server(spec_path):
    with MockServer(spec_path) as srv:
        yield srv


def post(server, path, body=None, headers=AUTH, **kwargs):
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return httpx.post(server.url + path, content=body, headers=headers, **kwargs)


def assert_envelope(response, status, code):
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "param", "type"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


# --- default answers and recording ------------------------------------------------------------


def test_url_points_at_v1(server):
    assert re.fullmatch(URL_RE, server.url)


def test_run_answers_documented_response_and_records_request(server):
    body = (FIXTURES / "requests/run/001_ruby.json").read_text()
    response = post(server, RUN, body, {**AUTH, "Content-Type": "application/json", "X-Trace": "Yes"})

    assert response.status_code == 200
    assert response.json() == fixture("responses/run/000_cli.json")
    assert response.headers["x-request-id"] == "req_mock_1"
    [record] = server.requests
    assert record["method"] == "POST"
    assert record["path"] == "/v1" + RUN
    assert record["headers"]["authorization"] == "Bearer sk-test"
    assert record["headers"]["x-trace"] == "Yes"
    assert record["body"] == body
    assert record["json"] == json.loads(body)


@pytest.mark.parametrize(
    "request_file, response_file",
    [
        ("requests/validate/000_cli.json", "responses/validate/000_cli.json"),
        ("requests/validate/001_ruby.json", "responses/validate/001_ruby.json"),
        ("requests/validate/004_java.json", "responses/validate/004_java.json"),
        ("requests/validate/003_curl.json", "responses/validate/003_response.json"),
    ],
)
def test_validate_echoes_grader_as_documented(server, request_file, response_file):
    response = post(server, VALIDATE, fixture(request_file))
    assert response.status_code == 200
    assert response.json() == fixture(response_file)


def test_chunked_request_body_is_read(server):
    chunks = [b'{"grader": ', json.dumps(STRING_CHECK).encode(), b"}"]
    response = httpx.post(server.url + VALIDATE, content=iter(chunks), headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"grader": STRING_CHECK}
    assert server.requests[0]["headers"]["transfer-encoding"] == "chunked"


# --- rejected requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, body, pointer",
    [
        (RUN, {"grader": STRING_CHECK}, "/model_sample"),
        (RUN, {"grader": STRING_CHECK, "model_sample": 1}, "/model_sample"),
        (VALIDATE, {"grader": {**STRING_CHECK, "operation": "gt"}}, "/grader/operation"),
        (VALIDATE, {"grader": {"name": "n", "type": "python"}}, "/grader/source"),
        (VALIDATE, {}, "/grader"),
        (VALIDATE, [], ""),
    ],
)
def test_invalid_body_is_400_naming_the_pointer(server, path, body, pointer):
    error = assert_envelope(post(server, path, body), 400, "invalid_request_body")
    assert error["type"] == "invalid_request_error"
    assert error["param"] == pointer
    assert f"at {pointer or '(root)'}:" in error["message"]
    assert server.requests[0]["json"] == body  # rejected requests are recorded too


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}])
def test_missing_or_malformed_authorization_is_401(server, headers):
    error = assert_envelope(
        post(server, RUN, fixture("requests/run/000_cli.json"), headers), 401, "missing_api_key"
    )
    assert error["type"] == "invalid_request_error"


def test_configured_api_key_must_match(spec_path):
    with MockServer(spec_path, api_key="sk-right") as server:
        body = fixture("requests/validate/000_cli.json")
        assert_envelope(
            post(server, VALIDATE, body, {"Authorization": "Bearer sk-wrong"}), 401, "invalid_api_key"
        )
        assert post(server, VALIDATE, body, {"Authorization": "Bearer sk-right"}).status_code == 200


def test_malformed_json_is_400(server):
    assert_envelope(post(server, RUN, '{"grader": '), 400, "invalid_json")
    assert server.requests[0]["body"] == '{"grader": '
    assert server.requests[0]["json"] is None


def test_unknown_path_is_404_and_wrong_method_405(server):
    assert_envelope(post(server, "/fine_tuning/jobs", {}), 404, "unknown_url")
    response = httpx.get(server.url + RUN, headers=AUTH)
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_internal_error_is_500_envelope_without_traceback(server, monkeypatch, capsys):
    def boom(*args):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(server, "_default_answer", boom)
    response = post(server, RUN, fixture("requests/run/000_cli.json"))
    error = assert_envelope(response, 500, "mock_internal_error")
    assert error["type"] == "server_error"
    assert "secret detail" not in response.text and "Traceback" not in response.text
    assert "secret detail" in capsys.readouterr().err


# --- scripted answers -------------------------------------------------------------------------


def test_enqueued_429_and_500_then_default(server):
    server.enqueue(429, headers={"Retry-After": "0"})
    server.enqueue(500)
    body = fixture("requests/run/000_cli.json")

    first, second, third = (post(server, RUN, body) for _ in range(3))

    error = assert_envelope(first, 429, "rate_limit_exceeded")
    assert first.headers["retry-after"] == "0"
    assert error["param"] is None
    assert assert_envelope(second, 500, None)["type"] == "server_error"
    assert third.status_code == 200
    assert third.json() == fixture("responses/run/000_cli.json")
    assert [r["json"] for r in server.requests] == [body] * 3
    assert server.queued == 0


def test_enqueued_bodies_are_sent_as_given(server):
    envelope = fixture("errors/400_invalid_grader.json")
    server.enqueue(400, body=envelope)
    server.enqueue(200, body="not json", headers={"Content-Type": "text/plain"})
    server.enqueue(201)  # no body: the endpoint's normal answer
    body = fixture("requests/validate/003_curl.json")

    assert post(server, VALIDATE, body).json() == envelope
    raw = post(server, VALIDATE, body)
    assert (raw.status_code, raw.text, raw.headers["content-type"]) == (200, "not json", "text/plain")
    echoed = post(server, VALIDATE, body)
    assert (echoed.status_code, echoed.json()) == (201, fixture("responses/validate/003_response.json"))


def test_scripted_answer_takes_precedence_over_validation(server):
    server.enqueue(503)
    assert post(server, RUN, {"not": "valid"}, headers={}).status_code == 503
    assert post(server, RUN, {"not": "valid"}, headers={}).status_code == 401


def test_delay_causes_client_timeout_then_next_request_is_answered(server):
    server.enqueue(200, delay=0.5)
    body = fixture("requests/run/000_cli.json")
    with pytest.raises(httpx.ReadTimeout):
        post(server, RUN, body, timeout=0.1)
    assert post(server, RUN, body, timeout=2).status_code == 200

    server.enqueue(200, delay=0.3)
    started = time.monotonic()
    assert post(server, RUN, body, timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_disconnect_drops_the_connection_once(server):
    server.enqueue_disconnect()
    body = fixture("requests/run/000_cli.json")
    with pytest.raises(httpx.TransportError):
        post(server, RUN, body)
    assert post(server, RUN, body).status_code == 200
    assert len(server.requests) == 2


# --- HTTP control API -------------------------------------------------------------------------


def control(server, method, name, body=None):
    root = server.url.removesuffix("/v1")
    return httpx.request(method, f"{root}/__mock/{name}", json=body)


def test_control_api_drives_the_server(server):
    custom = {"error": {"code": "x", "message": "scripted", "param": None, "type": "t"}}
    assert control(server, "POST", "enqueue", {"status": 429, "body": custom}).json() == {"queued": 1}
    assert control(server, "POST", "enqueue", {"disconnect": True}).json() == {"queued": 2}
    body = fixture("requests/run/000_cli.json")

    limited = post(server, RUN, body)
    assert (limited.status_code, limited.json()) == (429, custom)
    with pytest.raises(httpx.TransportError):
        post(server, RUN, body)
    assert post(server, RUN, body).status_code == 200

    records = control(server, "GET", "requests").json()
    assert [r["path"] for r in records] == ["/v1" + RUN] * 3  # control calls are not recorded
    assert records[0]["json"] == body and records[0]["headers"]["authorization"] == "Bearer sk-test"

    control(server, "POST", "enqueue", {"status": 500})
    assert control(server, "POST", "reset").status_code == 200
    assert control(server, "GET", "requests").json() == []
    after_reset = post(server, RUN, body)
    assert after_reset.status_code == 200  # the queued 500 was cleared
    assert after_reset.headers["x-request-id"] == "req_mock_1"


def test_control_enqueue_with_delay(server):
    control(server, "POST", "enqueue", {"status": 200, "delay": 0.3})
    with pytest.raises(httpx.ReadTimeout):
        post(server, VALIDATE, fixture("requests/validate/000_cli.json"), timeout=0.1)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "429"},
        {"status": 999},
        {"status": 200, "delay": -1},
        {"status": 200, "bogus": 1},
        {"status": 200, "headers": []},
        {"disconnect": "yes"},
        [],
    ],
)
def test_control_enqueue_rejects_bad_input(server, body):
    assert_envelope(control(server, "POST", "enqueue", body), 400, "invalid_enqueue")
    assert server.queued == 0


def test_unknown_control_route_is_404(server):
    assert_envelope(control(server, "GET", "nothing"), 404, "unknown_url")


# --- standalone process -----------------------------------------------------------------------


def start_process(spec_path, stdin, *args):
    proc = subprocess.Popen(
        [sys.executable, str(TESTS / "mock_server.py"), "--spec", str(spec_path), *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with ThreadPoolExecutor(1) as pool:
        line = pool.submit(proc.stdout.readline).result(timeout=20)
    match = re.fullmatch(f"MOCK_URL=({URL_RE})\n", line)
    assert match, f"unexpected first line {line!r}; stderr: {proc.stderr.read() if not line else ''}"
    return proc, match.group(1)


def test_standalone_prints_mock_url_and_exits_on_stdin_eof(spec_path):
    proc, url = start_process(spec_path, subprocess.PIPE)
    try:
        response = httpx.post(url + VALIDATE, json=fixture("requests/validate/000_cli.json"), headers=AUTH)
        assert response.json() == fixture("responses/validate/000_cli.json")
        records = httpx.get(url.removesuffix("/v1") + "/__mock/requests").json()
        assert len(records) == 1
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # exactly one line of output
    finally:
        proc.kill()
        proc.wait()


def test_standalone_keeps_serving_with_devnull_stdin(spec_path):
    proc, url = start_process(spec_path, subprocess.DEVNULL, "--api-key", "sk-right")
    try:
        time.sleep(0.3)
        assert proc.poll() is None
        body = fixture("requests/run/000_cli.json")
        assert (
            httpx.post(url + RUN, json=body, headers={"Authorization": "Bearer sk-wrong"}).status_code == 401
        )
        assert (
            httpx.post(url + RUN, json=body, headers={"Authorization": "Bearer sk-right"}).status_code == 200
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- the real spec and the fixture index ------------------------------------------------------


def test_fixture_index_lists_every_example_sorted():
    files = sorted(
        str(p.relative_to(FIXTURES))
        for d in ("requests", "responses")
        for p in (FIXTURES / d).rglob("*.json")
    )
    assert [e["file"] for e in INDEX] == files
    for entry in INDEX:
        kind = entry["kind"].split("_")
        assert entry["file"].startswith(f"{kind[1]}s/{kind[0]}/")
        assert re.fullmatch(r"00[0-4]_[0-9a-f]{16}\.txt:\d+-\d+", entry["source"])
        assert entry["example"] in {"curl", "cli", "ruby", "java", "go", "node", "python", "response"}


@pytest.fixture(scope="module")
def real_server():
    assert REAL_SPEC.is_file(), f"{REAL_SPEC} is missing: the canonical spec belongs to the checkout"
    with MockServer(REAL_SPEC) as srv:
        yield srv


@pytest.mark.parametrize(
    "entry", [e for e in INDEX if e["kind"].endswith("_request")], ids=lambda e: e["file"]
)
def test_real_spec_accepts_every_documented_request(real_server, entry):
    body = fixture(entry["file"])
    path = RUN if entry["kind"] == "run_request" else VALIDATE
    response = post(real_server, path, body)
    assert response.status_code == 200, response.text
    if path == VALIDATE:
        assert response.json() == {"grader": body["grader"]}


def test_real_spec_reports_the_offending_field(real_server):
    response = post(real_server, VALIDATE, {"grader": {**STRING_CHECK, "operation": "gt"}})
    assert assert_envelope(response, 400, "invalid_request_body")["param"] == "/grader/operation"

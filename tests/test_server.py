"""`gradergen serve` as a real process on 127.0.0.1: the two operations in the spec's shapes, the error
envelope and its `param`, authentication, the limits (body size, the pools' queues, the deadline), a
client that goes away, graceful shutdown, the access log, /healthz and /v1/openapi.yaml.

Expected values are derived by hand from the grader and the sample; the response schemas are the
spec's, checked with jsonschema."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conftest import SERVER_API_KEY, server_config
from graders_server import GradersServer, free_port
from harness import BIN, FIXTURES, ROOT, SPEC, load_fixture

CASES = json.loads((FIXTURES / "server" / "every_grader_type.json").read_text())
SPEC_DOC = yaml.safe_load(SPEC.read_text())
_REGISTRY = Registry().with_resource("urn:spec", Resource(contents=SPEC_DOC, specification=DRAFT202012))
FLAGS = [
    "formula_parse_error", "invalid_variable_error", "model_grader_parse_error", "model_grader_refusal_error",
    "model_grader_server_error", "other_error", "python_grader_runtime_error", "python_grader_server_error",
    "sample_parse_error", "truncated_observation_error", "unresponsive_reward_error",
]  # fmt: skip
LOOPS = "def grade(sample, item):\n    while True:\n        pass\n"
ISOLATION = "namespaces+cgroups+seccomp"


def schema_of(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{name}"}, registry=_REGISTRY)


RUN_RESPONSE = schema_of("GraderRunResponse")
VALIDATE_RESPONSE = schema_of("GraderValidateResponse")
ERROR_RESPONSE = schema_of("ErrorResponse")


def python(source: str, name: str = "py") -> dict[str, Any]:
    return {"type": "python", "name": name, "source": source}


def string_check(reference: str = "yes", operation: str = "eq") -> dict[str, Any]:
    return {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
            "operation": operation, "reference": reference}  # fmt: skip


def set_flags(response: dict[str, Any]) -> list[str]:
    return [f for f in FLAGS if response["metadata"]["errors"][f] is True]


def envelope_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    errors = list(ERROR_RESPONSE.iter_errors(body))
    assert not errors, errors
    error: dict[str, Any] = body["error"]
    return error


@pytest.fixture
def server(graders_server: GradersServer) -> GradersServer:
    return graders_server


# ----------------------------------------------------------------------------- /run: every grader type
@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_run_answers_in_the_spec_shape(server: GradersServer, case: dict[str, Any]) -> None:
    answer = server.post("run", case["body"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not list(RUN_RESPONSE.iter_errors(body))
    assert body["reward"] == pytest.approx(case["reward"], abs=1e-12)
    assert set_flags(body) == case["flags"]
    metadata = body["metadata"]
    assert metadata["name"] == case["body"]["grader"]["name"]
    assert metadata["type"] == case["body"]["grader"]["type"]
    assert list(metadata["errors"])[:4] == [  # the live service's order (the 002 document)
        "formula_parse_error", "sample_parse_error", "truncated_observation_error",
        "unresponsive_reward_error",
    ]  # fmt: skip
    assert body["sub_rewards"] == case.get("sub_rewards", {})
    if "sampled_model_name" in case:
        assert metadata["sampled_model_name"] == case["sampled_model_name"]
    if "total_tokens" in case:
        assert metadata["token_usage"]["total_tokens"] == case["total_tokens"]
    if "runtime_details_contain" in case:
        assert case["runtime_details_contain"] in metadata["errors"]["python_grader_runtime_error_details"]
    if case.get("isolation"):
        assert answer.headers["x-gradergen-isolation"] == ISOLATION
    else:
        assert "x-gradergen-isolation" not in answer.headers
    assert answer.headers["x-request-id"].startswith("req_")


def test_a_python_timeout_is_flagged(fake_models: Any) -> None:
    with GradersServer(server_config(fake_models, timeout=1.5)) as server:
        body = server.post("run", {"grader": python(LOOPS), "model_sample": "x"}).json()
    assert body["reward"] == 0
    assert set_flags(body) == ["python_grader_server_error", "unresponsive_reward_error"]
    assert body["metadata"]["errors"]["python_grader_server_error_type"] == "timeout"


# ----------------------------------------------------------------------------- /validate
@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_a_valid_grader_is_echoed(server: GradersServer, case: dict[str, Any]) -> None:
    answer = server.post("validate", {"grader": case["body"]["grader"]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"grader": case["body"]["grader"]}
    assert not list(VALIDATE_RESPONSE.iter_errors(answer.json()))


def test_the_documented_validate_body_is_echoed(server: GradersServer) -> None:
    body = load_fixture("requests/validate/003_curl.json")
    answer = server.post("validate", body)
    assert (answer.status_code, answer.json()) == (200, {"grader": body["grader"]})


def test_warnings_never_fail_a_request(server: GradersServer) -> None:
    grader = {**string_check(), "pass_threshold": 0.5}  # an unknown property: a warning
    assert server.post("validate", {"grader": grader}).status_code == 200
    assert server.post("run", {"grader": grader, "model_sample": "yes"}).json()["reward"] == 1


def test_an_invalid_grader_gets_the_documented_envelope(server: GradersServer) -> None:
    documented = load_fixture("errors/400_invalid_grader.json")["error"]
    grader = string_check(operation="gt")
    error = envelope_of(server.post("validate", {"grader": grader}), 400)
    assert (error["code"], error["type"]) == (documented["code"], documented["type"])
    assert error["param"] == "grader.operation"  # the documented /grader/operation, as the service writes it
    assert error["message"].startswith("Invalid request body at grader.operation: 'gt' is not one of eq, ne")


@pytest.mark.parametrize(
    ("grader", "param", "said"),
    [
        (CASES["invalid"]["body"]["grader"], "grader.graders.exact.operation", "'neq' is not one of"),
        ({"name": "no type"}, "grader.type", "missing required property 'type'"),
        ("content_part_type", "grader.input[0].content[1].type", "'input_video' is not one of"),
        ("labels_duplicate", "grader.graders.a.labels[2]", "duplicate label 'polite'"),
        ("range_string_item", "grader.range[0]", "expected a number, found a string ('0')"),
        ("label_model_top_level", "grader.type", "can only be used inside a multi grader"),
        ("template_in_sub_grader", "grader.graders.b.reference", "unknown namespace 'ietm'"),
    ],
)
def test_param_names_the_first_error_as_the_service_writes_it(
    server: GradersServer, grader: Any, param: str, said: str
) -> None:
    if isinstance(grader, str):
        grader = json.loads((ROOT / "tests" / "validate_corpus" / "invalid" / f"{grader}.json").read_text())
    bodies = (("validate", {"grader": grader}), ("run", {"grader": grader, "model_sample": "x"}))
    for operation, body in bodies:
        error = envelope_of(server.post(operation, body), 400)
        assert error["param"] == param, error
        assert said in error["message"] and error["message"].startswith(f"Invalid request body at {param}: ")
        assert error["details"][0]["param"] == param


def test_every_located_problem_is_in_the_details(server: GradersServer) -> None:
    grader = {
        "type": "multi", "name": "m", "calculate_output": "a + c",
        "graders": {"a": string_check(operation="neq"), "b": {**string_check(), "input": "{{ ietm.x }}"}},
    }  # fmt: skip
    error = envelope_of(server.post("validate", {"grader": grader}), 400)
    assert [d["param"] for d in error["details"]] == [
        "grader.calculate_output", "grader.graders.a.operation", "grader.graders.b.input"
    ]  # fmt: skip
    assert "(and 2 more: grader.graders.a.operation: 'neq'" in error["message"]
    assert [d["code"] for d in error["details"]] == ["formula", "schema.enum", "template"]


# ----------------------------------------------------------------------------- bad bodies
@pytest.mark.parametrize(
    ("operation", "content", "status", "code", "param", "said"),
    [
        ("run", b'{"grader": {', 400, "invalid_json", None, "at line 1, column 13 is not valid JSON"),
        ("run", b"", 400, "invalid_json", None, "The request body is empty"),
        ("run", b"\xff\xfe{}", 400, "invalid_json", None, "UTF-16 or UTF-32"),
        ("run", b"{\"a\": \"\xc3\"}", 400, "invalid_json", None, "not UTF-8 text: byte 0xc3"),
        ("run", b'{"a": NaN}', 400, "invalid_json", None, "holds NaN, which is not a finite JSON number"),
        ("run", b"[1, 2]", 400, "invalid_request_body", None, "expected a JSON object, found an array"),
        ("run", b'{"model_sample": "x"}', 400, "invalid_request_body", "grader", "missing required property"),
        ("validate", b'{"grader": "string_check"}', 400, "invalid_request_body", "grader",
         "expected an object (a grader), found a string ('string_check')"),
        ("run", json.dumps({"grader": string_check()}).encode(), 400, "invalid_request_body", "model_sample",
         "missing required property 'model_sample'"),
        ("run", json.dumps({"grader": string_check(), "model_sample": ["a"]}).encode(), 400,
         "invalid_request_body", "model_sample", "expected a string, found an array"),
        ("run", json.dumps({"grader": string_check(), "model_sample": None}).encode(), 400,
         "invalid_request_body", "model_sample", "expected a string, found null"),
        ("validate", b"[" * 5000 + b"]" * 5000, 400, "invalid_json", None, "nesting is too deep"),
        ("run", json.dumps({"grader": string_check(), "model_sample": "x", "item": [0]}).replace(
            "[0]", "[" * 130 + "0" + "]" * 130).encode(), 400,
         "invalid_request_body", "item", "at item: nested more than 128 levels deep"),
    ],
)  # fmt: skip
def test_bad_bodies_get_a_400_naming_the_field(
    server: GradersServer,
    operation: str,
    content: bytes,
    status: int,
    code: str,
    param: str | None,
    said: str,
) -> None:
    answer = httpx.post(server.endpoint(operation), content=content, headers=server.headers(), timeout=30)
    error = envelope_of(answer, status)
    assert (error["code"], error["param"]) == (code, param), error
    assert said in error["message"], error


def test_a_body_of_grader_keys_is_refused_quickly(server: GradersServer) -> None:
    grader = {**string_check(), **{f"extra{i}": i for i in range(100_000)}}
    error = envelope_of(server.post("validate", {"grader": grader}), 400)
    assert error["param"] == "grader"
    assert "an object with 100,005 properties; an object of a grader has at most 1,000" in error["message"]


def test_an_item_of_many_keys_is_data(server: GradersServer) -> None:
    item = {f"k{i}": i for i in range(100_000)} | {"label": "yes"}
    grader = {**string_check(), "reference": "{{ item.label }}"}
    assert server.post("run", {"grader": grader, "model_sample": "yes", "item": item}).json()["reward"] == 1


def test_big_integers_are_kept_exactly(server: GradersServer) -> None:
    grader = {**string_check(), "input": "{{ item.n }}", "reference": "123456789012345678901234567890"}
    body = {"grader": grader, "model_sample": "x", "item": {"n": 123456789012345678901234567890}}
    assert server.post("run", body).json()["reward"] == 1


def test_unknown_urls_and_methods_get_envelopes(server: GradersServer) -> None:
    error = envelope_of(httpx.post(f"{server.url}/fine_tuning/alpha/graders/nope", json={}), 404)
    assert error["code"] == "unknown_url"
    answer = httpx.get(server.endpoint("run"))
    error = envelope_of(answer, 405)
    assert error["code"] == "method_not_allowed" and answer.headers["allow"] == "POST"


# ----------------------------------------------------------------------------- authentication
def test_a_missing_or_wrong_key_gets_401(server: GradersServer) -> None:
    body = {"grader": string_check()}
    error = envelope_of(httpx.post(server.endpoint("validate"), json=body), 401)
    assert (error["code"], error["type"]) == ("missing_api_key", "invalid_request_error")
    wrong = httpx.post(server.endpoint("validate"), json=body, headers={"Authorization": "Bearer sk-wrong"})
    assert envelope_of(wrong, 401) == load_fixture("errors/401_invalid_api_key.json")["error"]
    basic_auth = {"Authorization": f"Basic {SERVER_API_KEY}"}
    basic = httpx.post(server.endpoint("run"), json=body, headers=basic_auth)
    assert envelope_of(basic, 401)["code"] == "missing_api_key"
    assert httpx.get(f"{server.base}/healthz").status_code == 200  # no key needed


def test_without_a_key_anyone_on_loopback_may_call(fake_models: Any) -> None:
    with GradersServer(server_config(fake_models)) as server:
        assert httpx.post(server.endpoint("validate"), json={"grader": string_check()}).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_a_public_address_needs_a_key(host: str) -> None:
    command = [str(BIN / "gradergen"), "serve", "--host", host, "--port", "9"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env={"PATH": "/bin"})
    assert result.returncode == 2
    assert result.stderr.startswith(f"gradergen serve: error: refusing to serve {host} without an API key")
    assert "--insecure-public" in result.stderr and "Traceback" not in result.stderr


def test_the_loopback_rule() -> None:
    from gradergen.server.command import is_loopback

    assert all(map(is_loopback, ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "10.0.0.1", "host.example"]))


# ----------------------------------------------------------------------------- limits
def test_a_body_over_the_limit_gets_413(fake_models: Any) -> None:
    config = server_config(fake_models) | {"server": {"max_body_mb": 1}}
    with GradersServer(config) as server:
        big = {"grader": string_check(), "model_sample": "x" * (1 << 20)}
        error = envelope_of(server.post("run", big), 413)
        assert error["code"] == "request_too_large"
        assert "the limit is 1,048,576 bytes (1 MiB" in error["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"grader": {}, "model_sample": "'
            for _ in range(20):
                yield b"x" * 65536
            yield b'"}'

        streamed = httpx.post(server.endpoint("run"), content=chunks(), timeout=30)
        assert envelope_of(streamed, 413)["code"] == "request_too_large"
        small = server.post("run", {"grader": string_check(), "model_sample": "yes"})
        assert small.json()["reward"] == 1


def _post_in_background(server: GradersServer, body: Any, out: list[httpx.Response]) -> threading.Thread:
    thread = threading.Thread(target=lambda: out.append(server.post("run", body, timeout=120)))
    thread.start()
    return thread


def _wait_for(condition: Any, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_a_full_python_queue_gets_429_with_retry_after(fake_models: Any) -> None:
    config = server_config(fake_models, timeout=3, workers=1)
    config["server"] = {"python_queue": 1, "retry_after": 2}
    with GradersServer(config) as server:
        answers: list[httpx.Response] = []
        threads = [_post_in_background(server, {"grader": python(LOOPS, f"loop{i}"), "model_sample": "x"},
                                       answers) for i in range(2)]  # fmt: skip
        _wait_for(lambda: server.health()["python"]["active"] == 2, "two python requests admitted")
        refused = server.post("run", {"grader": python(LOOPS, "third"), "model_sample": "x"})
        error = envelope_of(refused, 429)
        assert (error["code"], error["type"]) == ("rate_limit_exceeded", "requests")
        assert refused.headers["retry-after"] == "2"
        assert "1 at once and 1 waiting" in error["message"]
        # other graders are not held by the python queue
        assert server.post("run", {"grader": string_check(), "model_sample": "yes"}).json()["reward"] == 1
        for thread in threads:
            thread.join()
        for answer in answers:  # one ran to the sandbox's limit, one ran out of its deadline waiting
            body = answer.json()
            assert set_flags(body) == ["python_grader_server_error", "unresponsive_reward_error"]
            assert body["metadata"]["errors"]["python_grader_server_error_type"] == "timeout"
        assert server.health()["python"] == {"active": 0, "capacity": 2, "refused": 1}


def test_a_request_ends_at_its_deadline(fake_models: Any) -> None:
    """Queued behind a grader that loops, a request has the python limit plus the slack from when it was
    admitted: it ends then with the timeout flags instead of waiting its turn and its own limit."""
    # The first ends by the sandbox's limit (4 s from its start, 2 s before its deadline); the second,
    # admitted ~0.5 s later, by its deadline (6 s from its admission), ~1.5 s before its own limit (4 s
    # after the first ends): margins wide enough for a loaded machine.
    config = server_config(fake_models, timeout=4, workers=1) | {"server": {"deadline_slack": 2}}
    with GradersServer(config) as server:
        answers: list[httpx.Response] = []
        first = _post_in_background(server, {"grader": python(LOOPS, "first"), "model_sample": "x"}, answers)
        _wait_for(lambda: server.health()["python"]["active"] == 1, "the first python request admitted")
        time.sleep(0.5)
        second = server.post("run", {"grader": python(LOOPS + "# another\n", "second"), "model_sample": "x"})
        first.join()
    for body in (answers[0].json(), second.json()):
        assert set_flags(body) == ["python_grader_server_error", "unresponsive_reward_error"]
        assert body["metadata"]["errors"]["python_grader_server_error_type"] == "timeout"
    log = {line["request_id"]: line for line in server.access_log()}
    assert log[answers[0].headers["x-request-id"]]["error"] is None  # the sandbox's own limit
    assert log[second.headers["x-request-id"]]["error"] == "deadline_exceeded"


def test_a_client_that_disconnects_frees_its_sandbox(fake_models: Any) -> None:
    config = server_config(fake_models, timeout=600, workers=1)
    with GradersServer(config) as server:
        before = set(server.descendants())
        body = json.dumps({"grader": python(LOOPS, "abandoned"), "model_sample": "x"}).encode()
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"POST /v1/fine_tuning/alpha/graders/run HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
                     + b"\r\n\r\n" + body)  # fmt: skip
        _wait_for(lambda: server.health()["python"]["active"] == 1, "the looping request admitted")
        _wait_for(lambda: _looping(server, before), "a sandbox worker running the loop")
        looping = _looping(server, before)
        sock.close()
        _wait_for(lambda: not any(_still_running(pid) for pid in looping), "the loop to stop")
        _wait_for(lambda: server.health()["python"]["active"] == 0, "the request to leave the pool")
        quick = python("def grade(sample, item):\n    return 0.5\n", "next")
        assert server.post("run", {"grader": quick, "model_sample": "x"}).json()["reward"] == 0.5
    statuses = [line["status"] for line in server.access_log() if line["path"].endswith("/run")]
    assert statuses == [499, 200]


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _looping(server: GradersServer, before: set[int]) -> list[int]:
    """The new processes under the server that have used more than 1.5 s of CPU (a worker's start
    takes a fraction of that): the ones running the loop."""
    return [p for p in server.descendants() if p not in before and (_cpu_seconds(p) or 0) > 1.5]


def _still_running(pid: int) -> bool:
    """The process exists and uses CPU: it gains more than 0.1 s of CPU time in half a second."""
    first = _cpu_seconds(pid)
    time.sleep(0.5)
    second = _cpu_seconds(pid)
    return first is not None and second is not None and second - first > 0.1


def test_shutdown_finishes_the_requests_in_flight(fake_models: Any) -> None:
    slow = python("import time\ndef grade(sample, item):\n    time.sleep(2)\n    return 0.75\n", "slow")
    server = GradersServer(server_config(fake_models)).start()
    try:
        answers: list[httpx.Response] = []
        thread = _post_in_background(server, {"grader": slow, "model_sample": "x"}, answers)
        _wait_for(lambda: server.health()["python"]["active"] == 1, "the slow request admitted")
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        thread.join()
        assert server.stop() == -signal.SIGTERM  # uvicorn ends by the signal it was sent, once done
    finally:
        server.stop()
    assert answers[0].status_code == 200 and answers[0].json()["reward"] == 0.75
    assert "Traceback" not in server.stderr()


# ----------------------------------------------------------------------------- the rest of the surface
def test_healthz_and_the_spec(server: GradersServer) -> None:
    health = httpx.get(f"{server.base}/healthz").json()
    assert health["status"] == "ok" and set(health["python"]) == {"active", "capacity", "refused"}
    spec = httpx.get(f"{server.url}/openapi.yaml")
    assert spec.status_code == 200 and spec.headers["content-type"].startswith("application/yaml")
    assert spec.content == SPEC.read_bytes()


def test_one_structured_access_line_per_request(server: GradersServer) -> None:
    grader = python("def grade(sample, item):\n    return 1\n", "logged")
    answer = server.post("run", {"grader": grader, "model_sample": "x"})
    invalid = server.post("validate", {"grader": string_check(operation="neq")})
    lines = {line["request_id"]: line for line in server.access_log()}
    ran = lines[answer.headers["x-request-id"]]
    assert set(ran) == {
        "time", "method", "path", "status", "duration_ms", "grader_type", "isolation", "error", "request_id"
    }  # fmt: skip
    assert (ran["method"], ran["path"], ran["status"], ran["grader_type"], ran["isolation"]) == (
        "POST", "/v1/fine_tuning/alpha/graders/run", 200, "python", ISOLATION
    )  # fmt: skip
    assert ran["duration_ms"] > 0
    refused = lines[invalid.headers["x-request-id"]]
    assert (refused["status"], refused["grader_type"]) == (400, "string_check")
    assert refused["error"] == "invalid_request_body"


def test_several_workers_serve(fake_models: Any) -> None:
    with GradersServer(server_config(fake_models), workers=2) as server:
        for _ in range(10):
            assert server.post("run", {"grader": string_check(), "model_sample": "yes"}).json()["reward"] == 1
        assert server.post("run", {"grader": python("def grade(s, i):\n    return 0.25\n"),
                                   "model_sample": "x"}).json()["reward"] == 0.25  # fmt: skip
    assert server.returncode == 0  # the supervisor of several workers exits 0 once they have ended


def test_several_workers_share_the_cpus_out_for_the_sandbox_unless_told(fake_models: Any) -> None:
    from gradergen.server.command import sandbox_workers_each

    unset = server_config(fake_models)
    del unset["python"]["workers"]
    queue = 64  # [server] python_queue's default
    each = sandbox_workers_each(2)
    assert each == max(1, (os.cpu_count() or 1) // 2)
    for config, running in ((unset, each), (server_config(fake_models, workers=3), 3)):
        with GradersServer(config, workers=2) as server:
            assert server.health()["python"]["capacity"] == running + queue


def test_the_app_runs_under_any_asgi_server(fake_models: Any, tmp_path: Path) -> None:
    from graders_server import toml_text

    config = tmp_path / "gradergen.toml"
    config.write_text(toml_text(server_config(fake_models) | {"cache": {"enabled": False}}))
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "python"), "-m", "uvicorn", "gradergen.server:app", "--port", str(port)],
        env={"PATH": "/usr/bin:/bin", "GRADERGEN_CONFIG": str(config), "GRADERGEN_API_KEY": "sk-plain"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/v1/fine_tuning/alpha/graders/validate"
        deadline = time.monotonic() + 60
        while True:
            try:
                key = {"Authorization": "Bearer sk-plain"}
                answer = httpx.post(url, json={"grader": string_check()}, headers=key)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
                time.sleep(0.1)
        assert answer.status_code == 200
        assert httpx.post(url, json={"grader": string_check()}).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    assert [line["status"] for line in lines] == [200, 401]  # the access lines, without any setup

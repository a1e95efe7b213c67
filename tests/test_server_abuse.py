"""`gradergen serve` under abuse, as a real process.

1,000 malformed or hostile bodies — the validator's corpus of broken graders, valid graders broken on
purpose, damaged JSON text, deep nesting, 100,000 keys, binary data, values of the wrong kind — each get
a 4xx error envelope, never a 500, and the server's log holds no traceback.

100 clients send python graders that loop forever or allocate without bound, while a client validates:
every validation is answered, every looping request ends with its timeout flag by the deadline, every
allocating one with its memory or timeout flag, the server's memory stays bounded by the sandbox's
limits, and it serves normally afterwards. (How fast the validations are answered meanwhile is a
measurement: bench/bench_server_abuse.py reports their p99.)
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
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

from conftest import server_config
from graders_server import GradersServer
from harness import ROOT, SPEC

CORPUS = ROOT / "tests" / "validate_corpus"
SPEC_DOC = yaml.safe_load(SPEC.read_text())
ERROR_RESPONSE = Draft202012Validator(
    {"$ref": "urn:spec#/components/schemas/ErrorResponse"},
    registry=Registry().with_resource("urn:spec", Resource(contents=SPEC_DOC, specification=DRAFT202012)),
)
HOSTILE_COUNT = 1000
LOOPS = "def grade(sample, item):\n    while True:\n        pass\n"
ALLOCATES = (
    "def grade(sample, item):\n    hoard = []\n    while True:\n        hoard.append(bytearray(1 << 24))\n"
)


# ----------------------------------------------------------------------------- the hostile bodies
def _documents(folder: Path) -> list[Any]:
    found: list[Any] = []
    for path in sorted(folder.iterdir()):
        text = path.read_text()
        if path.suffix == ".jsonl":
            found.extend(json.loads(line) for line in text.splitlines() if line.strip())
        elif path.suffix == ".json":
            found.append(json.loads(text))
        else:
            found.extend(yaml.safe_load_all(text))
    return found


def _graders(documents: list[Any]) -> list[dict[str, Any]]:
    """Each document's grader (a request body's, or the document itself)."""
    return [d["grader"] if isinstance(d.get("grader"), dict) else d for d in documents if isinstance(d, dict)]


def _broken(grader: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A valid grader made invalid on purpose, in a way the spec forbids whatever else it holds."""
    broken = copy.deepcopy(grader)
    how = rng.choice(["drop type", "unknown type", "type not text", "name not text", "grader in grader"])
    if how == "drop type":
        del broken["type"]
    elif how == "unknown type":
        broken["type"] = rng.choice(["strng_check", "regex", "", "bertscore", "python3"])
    elif how == "type not text":
        broken["type"] = rng.choice([1, None, ["python"], {"t": 1}, True])
    elif how == "name not text":
        broken["name"] = rng.choice([1, 2.5, None, ["n"], {"n": 1}, False])
    else:
        broken = {"type": "multi", "name": "m", "graders": {"a": {"type": "multi", "name": "inner",
                  "graders": {"x": grader}, "calculate_output": "x"}}, "calculate_output": "a"}  # fmt: skip
    return broken


def _damaged(text: bytes, rng: random.Random) -> bytes:
    """JSON text damaged so that no reader takes it."""
    at = rng.randrange(1, len(text) - 1)
    how = rng.choice(["cut", "nul", "bad byte", "garbage before", "comma after"])
    if how == "cut":
        return text[:at]
    if how == "nul":
        return text[:at] + b"\x00" + text[at:]
    if how == "bad byte":
        return text[:at] + bytes([rng.choice([0x80, 0xC3, 0xFF, 0xFE])]) + text[at:]
    if how == "garbage before":
        return rng.choice([b"x", b"'", b"}", b"#", b"//"]) + text
    return text + b","


def hostile_bodies() -> Iterator[tuple[str, str, bytes]]:
    """(what, operation, body): HOSTILE_COUNT bodies that must each get a 4xx envelope."""
    rng = random.Random(11)
    invalid = _documents(CORPUS / "invalid")
    valid = _graders(_documents(CORPUS / "valid"))

    def body(grader: Any, run: bool) -> bytes:
        content: dict[str, Any] = {"grader": grader}
        if run:
            content["model_sample"] = "sample"
        return json.dumps(content).encode()

    out: list[tuple[str, str, bytes]] = []
    for i, document in enumerate(invalid):
        if "grader" in document:  # a request body: invalid as a run body (a run body needs more)
            out.append((f"corpus invalid body #{i}", "run", json.dumps(document).encode()))
            continue
        for operation in ("validate", "run"):
            out.append((f"corpus invalid #{i}", operation, body(document, operation == "run")))
    while len(out) < 450:
        grader = rng.choice(valid)
        operation = rng.choice(["validate", "run"])
        broken = body(_broken(grader, rng), operation == "run")
        out.append((f"broken {grader.get('name')!r}", operation, broken))
    while len(out) < 700:
        text = body(rng.choice(valid), True)
        out.append(("damaged text", rng.choice(["validate", "run"]), _damaged(text, rng)))
    for depth in (129, 200, 1000, 5000, 100_000):
        deep = "[" * depth + "]" * depth
        out.append((f"{depth} levels at the top", "validate", deep.encode()))
        out.append((f"{depth} levels in the item", "run",
                    f'{{"grader": {json.dumps(valid[0])}, "model_sample": "x", "item": {deep}}}'.encode()))
        out.append((f"{depth} levels in the grader", "validate",
                    f'{{"grader": {{"type": "string_check", "extra": {deep}}}}}'.encode()))  # fmt: skip
    keys = {f"key{i}": i for i in range(100_000)}
    out.append(("100,000 keys at the top", "validate", json.dumps(keys).encode()))
    out.append(("100,000 keys in the grader", "validate", body({**valid[0], **keys}, False)))
    out.append(("100,000 keys in a sub-grader", "run", body({"type": "multi", "name": "m",
                "graders": {"a": {**valid[0], **keys}}, "calculate_output": "a"}, True)))  # fmt: skip
    out.append(("100,000 keys in the model sample's place", "run",
                json.dumps({"grader": valid[0], "model_sample": keys}).encode()))
    wrong = [0, 1.5, "text", None, True, [], [{"type": "string_check"}]]
    for value in wrong:
        out.append((f"top level {value!r}", "run", json.dumps(value).encode()))
        out.append((f"grader {value!r}", "validate", json.dumps({"grader": value}).encode()))
        if not isinstance(value, str):
            out.append((f"model_sample {value!r}", "run",
                        json.dumps({"grader": valid[0], "model_sample": value}).encode()))
    out.append(("no model_sample", "run", body(valid[0], False)))
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        text = b'{"grader": {}, "model_sample": ' + constant + b"}"
        out.append((f"the constant {constant!r}", "run", text))
    for number in (b"1e999", b"-1e400", b"9" * 5000):
        text = b'{"grader": {"type": "score_model", "name": "j", "model": "m", "input": [], "range": [0, '
        out.append((f"the number {number[:10]!r}", "validate", text + number + b"]}}"))
    out.append(("empty", "run", b""))
    out.append(("blank", "validate", b" \r\n\t "))
    out.append(("UTF-16", "validate", '{"grader": {}}'.encode("utf-16")))
    while len(out) < HOSTILE_COUNT:
        out.append(("binary", rng.choice(["validate", "run"]), rng.randbytes(rng.randrange(1, 20_000))))
    assert len(out) == HOSTILE_COUNT, len(out)
    yield from out


def test_a_thousand_hostile_bodies_each_get_a_4xx_envelope(fake_models: Any) -> None:
    with GradersServer(server_config(fake_models)) as server:
        statuses: dict[int, int] = {}
        with httpx.Client(timeout=120) as client:
            for what, operation, content in hostile_bodies():
                answer = client.post(server.endpoint(operation), content=content,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
                assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.text[:500])
                envelope = answer.json()
                assert not list(ERROR_RESPONSE.iter_errors(envelope)), (what, envelope)
                assert envelope["error"]["message"], what
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            # still serving, and every one of them logged
            assert client.get(f"{server.base}/healthz").status_code == 200
        lines = [line for line in server.access_log() if line["path"] != "/healthz"]
    assert statuses == {400: HOSTILE_COUNT}
    assert len(lines) == HOSTILE_COUNT and all(400 <= line["status"] < 500 for line in lines)
    assert "Traceback" not in server.stderr() and "ERROR" not in server.stderr()


@pytest.mark.parametrize(
    ("what", "content"),
    [
        ("a lone surrogate", b'{"grader": {"type": "string_check", "name": "\\ud800", "input": "a", '
                             b'"reference": "a", "operation": "eq"}}'),
        ("duplicate keys", b'{"grader": {"type": "nope", "type": "string_check", "name": "d", "input": "a", '
                           b'"reference": "a", "operation": "eq"}}'),
    ],
)  # fmt: skip
def test_odd_but_legal_json_is_never_a_server_error(
    graders_server: GradersServer, what: str, content: bytes
) -> None:
    headers = graders_server.headers()
    answer = httpx.post(graders_server.endpoint("validate"), content=content, headers=headers)
    assert answer.status_code < 500, (what, answer.text)
    assert answer.json()  # JSON, whichever way it went


# ----------------------------------------------------------------------------- 100 abusive clients
def _tree_rss(server: GradersServer) -> tuple[int, int]:
    """(the server process's resident bytes, the sum over it and every process under it)."""
    assert server.proc is not None

    def rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    own = rss(server.proc.pid)
    return own, own + sum(rss(pid) for pid in server.descendants())


def test_a_hundred_abusive_clients(fake_models: Any) -> None:
    memory_mb = 256
    config = server_config(fake_models, timeout=2, memory_mb=memory_mb, workers=2)
    config["server"] = {"python_queue": 100, "deadline_slack": 1}
    with GradersServer(config) as server:
        own_before, _ = _tree_rss(server)
        peaks = [0, 0]
        sampling = threading.Event()

        def sample_memory() -> None:
            while not sampling.is_set():
                own, tree = _tree_rss(server)
                peaks[0], peaks[1] = max(peaks[0], own), max(peaks[1], tree)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample_memory)
        sampler.start()
        try:
            answers, validations = asyncio.run(_abuse(server))
        finally:
            sampling.set()
            sampler.join()

        looping = [a for kind, a in answers if kind == "loops"]
        allocating = [a for kind, a in answers if kind == "allocates"]
        assert len(looping) == len(allocating) == 50
        for answer in looping:
            assert answer.status_code == 200, answer.text
            errors = answer.json()["metadata"]["errors"]
            assert answer.json()["reward"] == 0
            assert errors["unresponsive_reward_error"] and errors["python_grader_server_error"]
            assert errors["python_grader_server_error_type"] == "timeout"
        types = set()
        for answer in allocating:
            assert answer.status_code == 200, answer.text
            errors = answer.json()["metadata"]["errors"]
            assert errors["python_grader_server_error"] and answer.json()["reward"] == 0
            types.add(errors["python_grader_server_error_type"])
        assert "memory_limit" in types and types <= {"memory_limit", "timeout"}
        assert validations and all(status == 200 for status in validations)

        # bounded: the sandbox's limits hold the workers, the server itself holds no grader's memory
        assert peaks[0] - own_before < 200 << 20, (own_before, peaks)
        assert peaks[1] < (2 * memory_mb + 800) << 20, peaks

        # and it serves normally afterwards
        quick = {"type": "python", "name": "quick", "source": "def grade(sample, item):\n    return 0.5\n"}
        assert server.post("run", {"grader": quick, "model_sample": "x"}).json()["reward"] == 0.5
        check = {"type": "string_check", "name": "c", "input": "{{ sample.output_text }}", "operation": "eq",
                 "reference": "yes"}  # fmt: skip
        assert server.post("run", {"grader": check, "model_sample": "yes"}).json()["reward"] == 1
        assert server.health()["python"]["active"] == 0
    assert "Traceback" not in server.stderr()


async def _abuse(server: GradersServer) -> tuple[list[tuple[str, httpx.Response]], list[int]]:
    limits = httpx.Limits(max_connections=120, max_keepalive_connections=120)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        done = asyncio.Event()

        async def abuser(i: int) -> tuple[str, httpx.Response]:
            kind, source = ("loops", LOOPS) if i % 2 == 0 else ("allocates", ALLOCATES)
            grader = {"type": "python", "name": f"{kind}-{i}", "source": source + f"# client {i}\n"}
            body = {"grader": grader, "model_sample": "x"}
            return kind, await client.post(server.endpoint("run"), json=body)

        async def validator() -> list[int]:
            grader = {"type": "string_check", "name": "v", "input": "{{ sample.output_text }}",
                      "operation": "eq", "reference": "x"}  # fmt: skip
            statuses = []
            while not done.is_set():
                answer = await client.post(server.endpoint("validate"), json={"grader": grader})
                statuses.append(answer.status_code)
                await asyncio.sleep(0.01)
            return statuses

        checking = asyncio.create_task(validator())
        answers = await asyncio.gather(*(abuser(i) for i in range(100)))
        done.set()
        return list(answers), await checking

"""The fault server misbehaves as it says: checked with raw sockets, so no client's handling hides it."""

from __future__ import annotations

import email.utils
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from fault_server import CORRUPT_GZIP, HTML_PAGE, OVERSIZED_BYTES, FaultServer, answer_of_size
from harness import ROOT

pytestmark = pytest.mark.timeout(60)

VALIDATE = "/fine_tuning/alpha/graders/validate"


def raw_post(server: FaultServer, base: str) -> socket.socket:
    """Send a validate request by hand and return the connection, its answer unread."""
    port = int(server.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    body = b'{"grader": {}}'
    sock.sendall(
        f"POST {base}{VALIDATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    return sock


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The status line and headers, and whatever of the body came with them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed before the headers ended: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def test_never_answers_sends_nothing(fault_server: FaultServer) -> None:
    with raw_post(fault_server, "/never-answers") as sock:
        sock.settimeout(1.0)
        with pytest.raises(TimeoutError):
            sock.recv(1)
    assert fault_server.hits("/never-answers") == 1


def test_reset_mid_body_sends_part_of_the_body_then_a_reset(fault_server: FaultServer) -> None:
    with raw_post(fault_server, "/reset-mid-body") as sock:
        head, body = read_head(sock)
        assert b"Content-Length: 1000" in head
        with pytest.raises(ConnectionResetError):
            while True:
                chunk = sock.recv(65536)
                assert chunk, "the server closed with FIN, not a reset"
                body += chunk
        assert 0 < len(body) < 1000


def test_slow_drip_sends_the_headers_then_one_byte_at_a_time(fault_server: FaultServer) -> None:
    with raw_post(fault_server, "/slow-drip/200") as sock:
        head, body = read_head(sock)
        assert head.startswith(b"HTTP/1.1 200") and len(body) <= 1
        sock.settimeout(5)
        pieces = [sock.recv(65536) for _ in range(3)]
        assert [len(p) for p in pieces] == [1, 1, 1]


def test_oversized_streams_a_valid_document_bigger_than_the_default_limit(fault_server: FaultServer) -> None:
    with httpx.stream("POST", fault_server.url + "/oversized" + VALIDATE, json={}, timeout=30) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        received = b"".join(response.iter_bytes())
    assert len(received) == OVERSIZED_BYTES > 32 * 1024 * 1024
    assert json.loads(received)["grader"]["type"] == "string_check"


@pytest.mark.parametrize("scenario", ["/oversized-declared", "/slow-drip/50", "/never-answers"])
def test_a_handler_stops_when_the_client_hangs_up(fault_server: FaultServer, scenario: str) -> None:
    base = f"{scenario}/hang-up"
    with raw_post(fault_server, base) as sock:
        wait_for(lambda: fault_server.busy(base) == 1)
        if scenario != "/never-answers":
            head, _ = read_head(sock)
            assert head.startswith(b"HTTP/1.1 200")
    wait_for(lambda: fault_server.busy(base) == 0)


def wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("the condition did not come true within 10 s")


def test_the_simple_answers(fault_server: FaultServer) -> None:
    def post(base: str) -> httpx.Response:
        return httpx.post(fault_server.url + base + VALIDATE, json={}, timeout=10)

    assert post("/invalid-json").status_code == 200
    with pytest.raises(json.JSONDecodeError):
        post("/invalid-json").json()
    assert post("/wrong-shape").json() == [1, 2, 3]
    html = post("/html-400")
    assert (html.status_code, html.text, html.headers["content-type"]) == (
        400,
        HTML_PAGE,
        "text/html; charset=utf-8",
    )
    first, second = post("/retry-after-huge/a"), post("/retry-after-huge/a")
    assert (first.status_code, first.headers["retry-after"]) == (429, "99999")
    assert second.status_code == 200
    assert post("/retry-after-huge/b").status_code == 429  # each base path counts on its own
    before = time.time()
    dated = post("/retry-after-date/5")
    when = email.utils.parsedate_to_datetime(dated.headers["retry-after"]).timestamp()
    assert dated.status_code == 429 and before + 4 <= when <= time.time() + 5
    assert post("/retry-after-date/5").status_code == 200 and post("/retry-after-date/x").status_code == 400
    assert post("/json-of-size/12345").content == answer_of_size(12345)
    assert len(answer_of_size(12345)) == 12345
    assert post("/json-of-size/3").status_code == 400
    with pytest.raises(httpx.DecodingError, match="invalid block type"):
        post("/corrupt-gzip")
    with raw_post(fault_server, "/corrupt-gzip") as sock:
        head, body = read_head(sock)
        while len(body) < len(CORRUPT_GZIP) and (chunk := sock.recv(65536)):
            body += chunk
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Encoding: gzip" in head, head
    assert body == CORRUPT_GZIP
    deep = post("/deep-json/300").json()["grader"]["deep"]
    assert json.dumps(deep) == "[" * 300 + "]" * 300
    assert post("/deep-json/x").status_code == 400
    assert post("/no-such-scenario").status_code == 404
    hits = httpx.get(fault_server.url + "/__fault/hits").json()
    assert hits["/retry-after-huge/a"] == 2 and hits["/invalid-json"] == 2


def test_standalone_prints_its_url_and_exits_on_stdin_eof() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fault_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with ThreadPoolExecutor(1) as pool:
            line = pool.submit(proc.stdout.readline).result(timeout=20)
        match = re.fullmatch(r"FAULT_URL=(http://127\.0\.0\.1:\d+)\n", line)
        assert match, f"unexpected first line {line!r}"
        answer = httpx.post(match.group(1) + "/wrong-shape" + VALIDATE, json={}, timeout=10)
        assert answer.json() == [1, 2, 3]
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()

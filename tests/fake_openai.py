"""A scripted OpenAI-compatible server for the model graders' tests: real HTTP on 127.0.0.1, a free
port, every request recorded.

It stands in for the hosted models only. Each answer is scripted by the test, for the next request
or for a model's next request, so a test says exactly what the "model" replies and then asserts on
the exact request the engine sent:

    with FakeOpenAI() as fake:
        fake.script(score(0.8, model="served-1"))          # the next chat request, whatever model
        fake.script(error(500), score(1), model="judge")   # the next two requests for "judge"
        fake.always(label("good"))                         # every request with nothing else queued
        fake.embedding("a cat", [1.0, 0.0])                # /v1/embeddings of that text
        ... fake.url (http://127.0.0.1:PORT/v1), fake.requests, fake.peak_in_flight ...

A chat request with nothing scripted for it gets HTTP 500 saying so (a test that forgot to script an
answer fails loudly instead of passing on a default); so does an embedding of an unknown text.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Answer:
    """What the server sends for one request."""

    status: int = 200
    body: Any = None
    """A JSON document; for a chat reply, built by `reply` with the request's model filled in."""
    raw: bytes | None = None
    """Sent as it is instead of `body` (an answer that is not JSON)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a slow model)."""
    drip: float = 0.0
    """Seconds between the body's bytes, sent one at a time after the headers (a server that never
    finishes an answer it has started)."""
    chat: Mapping[str, Any] | None = None
    """The parts of a chat completion; the server completes it for the request it answers."""


def reply(
    content: str | None,
    *,
    model: str | None = None,
    refusal: str | None = None,
    finish_reason: str = "stop",
    usage: tuple[int, int, int] | None = (10, 5, 0),
    delay: float = 0.0,
) -> Answer:
    """A chat completion whose message says `content`. `model` is the name the reply reports (default:
    the requested model); `usage` is (prompt, completion, cached) tokens, or None for no usage."""
    return Answer(
        chat={
            "content": content,
            "model": model,
            "refusal": refusal,
            "finish_reason": finish_reason,
            "usage": usage,
        },
        delay=delay,
    )


def score(result: Any, *, steps: Sequence[tuple[str, str]] = (), **options: Any) -> Answer:
    """A structured score_model reply: `{"steps": [...], "result": result}`."""
    listed = [{"description": d, "conclusion": c} for d, c in steps]
    return reply(json.dumps({"steps": listed, "result": result}), **options)


def label(result: str, **options: Any) -> Answer:
    """A structured label_model reply."""
    return reply(json.dumps({"steps": [], "result": result}), **options)


def refusal(text: str, **options: Any) -> Answer:
    """The model declines: `message.refusal` set, no content."""
    return reply(None, refusal=text, **options)


def error(status: int, message: str = "scripted failure", **headers: str) -> Answer:
    """An API error in OpenAI's envelope; header names are given with underscores (retry_after_ms)."""
    envelope = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    return Answer(status=status, body=envelope, headers={k.replace("_", "-"): v for k, v in headers.items()})


def raw(status: int, text: str, content_type: str = "text/html") -> Answer:
    """An answer whose body is not JSON."""
    return Answer(status=status, raw=text.encode(), headers={"Content-Type": content_type})


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased names."""
    body: Any
    """The parsed JSON body (None when there was none)."""


class FakeOpenAI:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Answer] = deque()
        self._by_model: dict[str, deque[Answer]] = {}
        self._always: Answer | None = None
        self._always_by_model: dict[str, Answer] = {}
        self._embeddings: dict[str, list[float]] = {}
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._generation = 0
        """Bumped by reset: requests of an earlier test, still being answered, no longer count."""
        self._wake = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = 0

    # ------------------------------------------------------------------------- scripting
    def script(self, *answers: Answer, model: str | None = None) -> None:
        """Queue answers for the next requests (of `model` only, when given)."""
        with self._lock:
            queue = self._queue if model is None else self._by_model.setdefault(model, deque())
            queue.extend(answers)

    def always(self, answer: Answer | None, model: str | None = None) -> None:
        """The answer to every chat request (of `model` only, when given) that has nothing queued for
        it (None: stop)."""
        with self._lock:
            if model is None:
                self._always = answer
            elif answer is None:
                self._always_by_model.pop(model, None)
            else:
                self._always_by_model[model] = answer

    def embedding(self, text: str, vector: Sequence[float]) -> None:
        with self._lock:
            self._embeddings[text] = list(vector)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._by_model.clear()
            self._always = None
            self._always_by_model.clear()
            self._embeddings.clear()
            self.requests.clear()
            self.in_flight = self.peak_in_flight = 0
            self._generation += 1
            self._wake.set()  # delayed answers of the last test go out now
            self._wake = threading.Event()

    def chat_requests(self) -> list[Any]:
        """The bodies of the chat requests received, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    # ------------------------------------------------------------------------- serving
    def start(self) -> Self:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._wake.set()
        if self._httpd is not None and self._thread is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL an OpenAI client is given: http://127.0.0.1:PORT/v1."""
        assert self._httpd is not None, "the fake OpenAI server is not running"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def _record(self, recorded: Recorded) -> tuple[int, threading.Event]:
        with self._lock:
            self.requests.append(recorded)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return self._generation, self._wake

    def _done(self, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self.in_flight -= 1

    def _next_chat(self, model: str) -> Answer:
        with self._lock:
            queue = self._by_model.get(model)
            if queue:
                return queue.popleft()
            if self._queue:
                return self._queue.popleft()
            if model in self._always_by_model:
                return self._always_by_model[model]
            if self._always is not None:
                return self._always
        return error(500, f"fake: no answer scripted for model {model!r}")

    def _chat_body(self, answer: Answer, request: Mapping[str, Any]) -> Any:
        parts = answer.chat
        assert parts is not None
        with self._lock:
            self._ids += 1
            number = self._ids
        message: dict[str, Any] = {
            "role": "assistant",
            "content": parts["content"],
            "refusal": parts["refusal"],
        }
        body: dict[str, Any] = {
            "id": f"chatcmpl-fake-{number}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": parts["model"] or request.get("model"),
            "choices": [
                {"index": 0, "message": message, "finish_reason": parts["finish_reason"], "logprobs": None}
            ],
        }
        if parts["usage"] is not None:
            prompt, completion, cached = parts["usage"]
            body["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached},
            }
        return body

    def _embeddings_answer(self, request: Mapping[str, Any]) -> Answer:
        texts = request.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        with self._lock:
            missing = [t for t in texts or [] if t not in self._embeddings]
            vectors = [self._embeddings.get(t) for t in texts or []]
        if not isinstance(texts, list) or missing:
            return error(400, f"fake: no embedding scripted for {missing!r}")
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        tokens = sum(len(str(t).split()) for t in texts)
        return Answer(
            body={
                "object": "list",
                "data": data,
                "model": request.get("model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    def answer(self, path: str, request: Any, wake: threading.Event) -> tuple[Answer, bytes]:
        if not isinstance(request, Mapping):
            answer = error(400, "fake: the body is not a JSON object")
        elif path.endswith("/chat/completions"):
            answer = self._next_chat(str(request.get("model")))
        elif path.endswith("/embeddings"):
            answer = self._embeddings_answer(request)
        else:
            answer = error(404, f"fake: no such endpoint {path}")
        if answer.delay:
            wake.wait(answer.delay)
        if answer.raw is not None:
            return answer, answer.raw
        body = answer.body
        if answer.chat is not None and isinstance(request, Mapping):
            body = self._chat_body(answer, request)
        return answer, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        try:
            request = json.loads(data) if data else None
        except ValueError:
            request = data.decode(errors="replace")
        recorded = Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, request)
        generation, wake = self.fake._record(recorded)
        try:
            answer, body = self.fake.answer(self.path, request, wake)
        finally:
            self.fake._done(generation)  # before the answer leaves, so a request sent after it never overlaps
        try:
            self.send_response(answer.status)
            headers = {"Content-Type": "application/json", **answer.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if answer.drip:
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    if wake.wait(answer.drip):
                        break
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

"""What the two operations do, apart from HTTP: read the body, compile (or fetch) the grader, admit the
request to the pools it needs, and grade it within its deadline, stopping when the client goes away."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from ..engine import EngineConfig, EngineError, Outcome
from ..engine.outcome import response_json
from ..engine.services import services_for
from ..validation import validate
from .body import ClientGone, parse, request_object
from .errors import ApiError, invalid_body, missing_property, param_of
from .gates import Gate
from .graders import MODEL_KINDS, Entry, Graders

log = logging.getLogger("gradergen.server")

WAITING_KINDS = frozenset({"python", "score_model", "label_model", "text_similarity"})
"""Graders whose run waits on something (a sandbox, a model, a thread): they get a deadline and a
watch on the client. The others finish in microseconds on the event loop."""


@dataclass(frozen=True)
class Settings:
    config: EngineConfig
    api_key: str | None = None
    """Bearer token every API request must carry; None: no authentication (loopback only)."""

    @classmethod
    def from_environment(cls) -> Settings:
        """$GRADERGEN_CONFIG (else ./gradergen.toml), the GRADERGEN_* variables, $GRADERGEN_API_KEY."""
        return cls(EngineConfig.load(), os.environ.get("GRADERGEN_API_KEY") or None)


@dataclass(frozen=True)
class Prepared:
    body: dict[str, Any]
    grader: dict[str, Any]
    entry: Entry | None
    """The compiled grader (or the cache's entry) for /run; None for /validate, which only validates."""


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        config = self.config = settings.config
        self.max_body = config.server.max_body_mb << 20
        self.graders = Graders(config)
        python_workers = config.python.workers or os.cpu_count() or 1
        retry_after = config.server.retry_after
        self.python_gate = Gate("python sandbox", python_workers, config.server.python_queue, retry_after)
        self.model_gate = Gate(
            "model graders' pool", config.models.concurrency, config.server.model_queue, retry_after
        )
        self._key = settings.api_key.encode() if settings.api_key else None

    # ------------------------------------------------------------------ authentication
    def authorize(self, authorization: str | None) -> None:
        if self._key is None:
            return
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401,
                "missing_api_key",
                "You didn't provide an API key: send it as 'Authorization: Bearer <key>'.",
            )
        if not hmac.compare_digest(token.encode(), self._key):
            raise ApiError(401, "invalid_api_key", "Incorrect API key provided.")

    # ------------------------------------------------------------------ the bodies
    def prepare(self, raw: bytes, run: bool, noted: dict[str, Any]) -> Prepared:
        """Parse and check a body, and validate its grader (/validate) or compile it (/run): CPU work,
        run off the loop when big. The grader's type goes to `noted` (the access log) as soon as it is
        known."""
        body = request_object(parse(raw))
        if "grader" not in body:
            raise missing_property("grader")
        grader = body["grader"]
        if not isinstance(grader, dict):
            raise invalid_body_kind("grader", "an object (a grader)", grader)
        if isinstance(grader.get("type"), str):
            noted["grader_type"] = grader["type"]
        if run:
            if "model_sample" not in body:
                raise missing_property("model_sample")
            if not isinstance(body["model_sample"], str):
                raise invalid_body_kind("model_sample", "a string", body["model_sample"])
        if not run:
            problems = self.graders.problems(grader)
            if problems:
                raise invalid_body(problems, body, "/grader")
            return Prepared(body, grader, None)
        entry = self.graders.entry(grader)
        if entry.compiled is None:
            raise invalid_body(entry.problems, body, "/grader")
        return Prepared(body, grader, entry)

    # ------------------------------------------------------------------ grading
    def deadline(self, kinds: frozenset[str]) -> float:
        """The python time limit (or the model calls' attempts) plus the slack."""
        config = self.config
        limits = [config.python.timeout]
        if kinds & MODEL_KINDS:
            limits.append(config.models.timeout * (config.models.max_retries + 1))
        if "embeddings" in kinds:
            limits.append(config.embeddings.timeout * (config.embeddings.max_retries + 1))
        return max(limits) + config.server.deadline_slack

    def gates(self, kinds: frozenset[str]) -> list[Gate]:
        gates = []
        if "python" in kinds:
            gates.append(self.python_gate)
        if kinds & MODEL_KINDS:
            gates.append(self.model_gate)
        return gates

    async def grade(
        self, prepared: Prepared, disconnected: Callable[[], Coroutine[Any, Any, None]]
    ) -> tuple[dict[str, Any], bool]:
        """The GraderRunResponse as JSON, and whether the deadline ended it. ClientGone when the client
        left first (the grading is cancelled: its sandbox call dropped or its worker ended)."""
        entry = prepared.entry
        assert entry is not None and entry.compiled is not None
        compiled = entry.compiled
        sample, item = prepared.body["model_sample"], prepared.body.get("item")
        with ExitStack() as stack:
            for gate in self.gates(entry.kinds):
                stack.enter_context(gate.admitted())
            started = time.perf_counter()
            if not entry.kinds & WAITING_KINDS:
                outcome, timed_out = await compiled.aoutcome(sample, item), False
            else:
                deadline = self.deadline(entry.kinds)
                ended = await _within(compiled.aoutcome(sample, item), deadline, disconnected)
                if ended is _GONE:
                    raise ClientGone()
                timed_out = ended is _LATE
                outcome = past_deadline(entry, deadline) if timed_out else ended
            elapsed = time.perf_counter() - started
            return response_json(outcome, compiled.name, compiled.kind, elapsed), timed_out

    def isolation(self, entry: Entry | None) -> str | None:
        if entry is None or "python" not in entry.kinds:
            return None
        return str(services_for(self.config).sandbox().isolation)

    # ------------------------------------------------------------------ start and stop
    def start(self) -> None:
        """Start the python sandbox now, so the first python grader does not wait for it and the log
        says the isolation in force; a sandbox that cannot start leaves the other graders served."""
        validate({"type": "string_check", "name": "", "input": "", "reference": "", "operation": "eq"})
        try:
            services_for(self.config).sandbox()  # it logs the isolation in force
        except EngineError as exc:
            log.warning("python graders cannot run on this server: %s", exc)

    def drive_sandbox(self) -> None:
        """Let the running event loop drive the python sandbox's workers (SandboxPool.attach): it lives
        as long as this process serves. A sandbox that is not a pool, or one already in use (two apps
        of one configuration in one process), keeps its own dispatcher thread."""
        try:
            sandbox = services_for(self.config).sandbox()
        except EngineError:
            return  # start() has said why
        attach = getattr(sandbox, "attach", None)
        if attach is None:
            return
        try:
            attach(asyncio.get_running_loop())
        except EngineError as exc:
            log.info("the python sandbox keeps its dispatcher thread: %s", exc)

    def status(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "python": self.python_gate.status(),
            "models": self.model_gate.status(),
            "compiled_graders": len(self.graders),
        }


_GONE, _LATE = object(), object()
"""What `_within` returns when the client left, or the deadline came, before the grading ended."""


WATCH_AFTER = 0.1
"""Seconds a grading runs before the client is watched: a watch costs a task and a receive, more than
most gradings do, and a client that left is noticed at most this much later."""


async def _within(
    grading: Coroutine[Any, Any, Any], deadline: float, disconnected: Callable[[], Coroutine[Any, Any, None]]
) -> Any:
    """The result of `grading`; `_LATE` once `deadline` seconds have passed, `_GONE` once the client has
    left, either way the grading cancelled and ended (its sandbox call dropped, its worker freed).
    The grading runs in the request's own task, and a timer cancels that task at the deadline; a
    grading still running after WATCH_AFTER seconds also gets a watch on the client, which cancels it
    when the client leaves. Cheaper, request by request, than a task of its own and a watch from the
    start."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    ended_by: list[object] = []
    running = True
    watch: asyncio.Task[None] | None = None
    timer: asyncio.TimerHandle | None = None

    def end(reason: object) -> None:
        if running and not ended_by:  # once, and never after the grading is over
            ended_by.append(reason)
            task.cancel()

    def gone(done: asyncio.Task[None]) -> None:
        if not done.cancelled():
            done.exception()  # retrieved, so that a receive that failed is not reported as unhandled
        end(_GONE)

    def watch_client() -> None:
        nonlocal timer, watch
        timer = loop.call_at(started + deadline, end, _LATE)
        watch = loop.create_task(disconnected())
        watch.add_done_callback(gone)

    started = loop.time()
    if deadline <= WATCH_AFTER:
        timer = loop.call_at(started + deadline, end, _LATE)
    else:
        timer = loop.call_at(started + WATCH_AFTER, watch_client)
    try:
        return await grading
    except asyncio.CancelledError:
        if not ended_by or task.cancelling() > 1:  # the request itself was cancelled (the server stopping)
            raise
        return ended_by[0]
    finally:
        running = False
        if timer is not None:
            timer.cancel()
        if watch is not None:
            watch.cancel()
        if ended_by:
            task.uncancel()


def past_deadline(entry: Entry, deadline: float) -> Outcome:
    """What a request that ran out of time answers: the flags of what was still running."""
    outcome = Outcome()
    said = f"no answer within the request's deadline of {deadline:g} s"
    outcome.fail("unresponsive_reward_error")
    if "python" in entry.kinds:
        outcome.fail("python_grader_server_error", "timeout", "python_grader_server_error_type")
    if entry.kinds & MODEL_KINDS:
        outcome.fail("model_grader_server_error", said, "model_grader_server_error_details")
    if not entry.kinds & (MODEL_KINDS | {"python"}):
        outcome.fail("other_error")
    outcome.notes.append(said)
    return outcome


def invalid_body_kind(name: str, expected: str, value: Any) -> ApiError:
    from ..validation.problem import kind_of, shown

    found = kind_of(value)
    if value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
        found += f" ({shown(value)})"
    return ApiError(
        400,
        "invalid_request_body",
        f"Invalid request body at {name}: expected {expected}, found {found}",
        param_of("/" + name, {name: value}),
    )

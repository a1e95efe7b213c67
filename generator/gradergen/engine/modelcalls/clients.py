"""Clients of an OpenAI-compatible API, made with the official `openai` package.

Each attempt may take `timeout` seconds from connecting to the last byte of the answer — a deadline
the engine enforces by cancelling the attempt, because the package's own timeout bounds each read, so a
server that dribbles an answer a byte at a time would never time out. The engine retries 408, 409, 429,
5XX, timeouts and connection errors itself, `max_retries` times, with exponential backoff (0.5 s
doubling to 8 s, with jitter, or the wait a Retry-After header asks for, up to 60 s). Every call runs on
an event loop: async callers' own (one client per loop, since a connection pool belongs to the loop it
was opened on), sync callers' on a loop thread of the connection's.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..errors import EngineError

_T = TypeVar("_T")

RETRYABLE_STATUSES = frozenset({408, 409, 429})
"""Besides these, every 5XX status is retried."""
MAX_RETRY_AFTER = 60.0


class AttemptTimedOut(Exception):
    """An attempt ran past its deadline and was cancelled."""


NO_KEY = "no-key-set"
"""Sent as the key to a server of your own when the key's variable is unset (most need none)."""


class Connection:
    """Where one kind of call goes (models or embeddings), and its clients."""

    def __init__(
        self, base_url: str | None, api_key_env: str, timeout: float, max_retries: int, section: str
    ) -> None:
        what = {"models": "model graders", "embeddings": "cosine embeddings"}.get(section, section)
        try:
            import openai
        except ImportError:
            raise EngineError(f"{what} need the openai package: pip install 'gradergen[engine]'") from None
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = os.environ.get(api_key_env) or None
        if key is None and base_url is None:
            raise EngineError(
                f"{what} call OpenAI's API, which needs a key: set ${api_key_env}, or point "
                f"[{section}] base_url at an OpenAI-compatible server"
            )
        self._openai = openai
        self._options: dict[str, Any] = {
            "api_key": key or NO_KEY,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": 0,  # the engine retries, with a deadline on each attempt
        }
        self.api_key_env = api_key_env
        self.max_retries = max_retries
        self.timeout = timeout
        self.client = openai.OpenAI(**self._options)
        self.base_url = str(self.client.base_url).rstrip("/")
        self._lock = threading.Lock()
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None

    async def call(self, make: Callable[[Any], Awaitable[_T]]) -> _T:
        """`make(client)` on the running loop's client, each attempt within the deadline, retried as the
        module says; the last failure is raised (AttemptTimedOut for a deadline)."""
        client = self.async_client()
        openai = self._openai
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            try:
                return await asyncio.wait_for(make(client), self.timeout)
            except TimeoutError:
                failure: Exception = AttemptTimedOut()
            except openai.APIStatusError as exc:
                if exc.status_code not in RETRYABLE_STATUSES and exc.status_code < 500:
                    raise
                failure, retry_after = exc, _retry_after(exc)
            except openai.APIConnectionError as exc:
                failure = exc
            if attempt == self.max_retries:
                raise failure
            await asyncio.sleep(_backoff(attempt, retry_after))
        raise AssertionError("unreachable")

    def call_sync(self, make: Callable[[Any], Awaitable[_T]]) -> _T:
        """`call` for a caller without an event loop: on the connection's loop thread."""
        future = asyncio.run_coroutine_threadsafe(self._call_coroutine(make), self._background_loop())
        return future.result()

    async def _call_coroutine(self, make: Callable[[Any], Awaitable[_T]]) -> _T:
        return await self.call(make)

    def _background_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="gradergen-model-calls", daemon=True)
                thread.start()
                self._loop, self._loop_thread = loop, thread
            return self._loop

    def async_client(self) -> Any:
        """The AsyncOpenAI client of the running event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            found = self._async.get(loop)
            if found is None:
                found = self._async[loop] = self._openai.AsyncOpenAI(**self._options)
        return found

    def describe_failure(self, exc: Exception) -> tuple[str, bool]:
        """What went wrong with a call, for a person, and whether it was a timeout."""
        openai = self._openai
        tries = f" after {self.max_retries + 1} attempts" if self.max_retries else ""
        if isinstance(exc, (AttemptTimedOut, openai.APITimeoutError)):
            return f"no complete answer within {self.timeout:g} s{tries} from {self.base_url}", True
        if isinstance(exc, openai.APIConnectionError):
            return f"cannot connect to {self.base_url}{tries}: {exc.__cause__ or exc}", False
        if isinstance(exc, openai.APIStatusError):
            retried = tries if exc.status_code in (408, 409, 429) or exc.status_code >= 500 else ""
            hint = f" (is ${self.api_key_env} set?)" if exc.status_code == 401 else ""
            return f"HTTP {exc.status_code} from {self.base_url}{retried}: {_message(exc)}{hint}", False
        return f"{type(exc).__name__} from {self.base_url}: {exc}", False

    def close(self) -> None:
        self.client.close()
        with self._lock:
            self._async.clear()
            loop, thread = self._loop, self._loop_thread
            self._loop = self._loop_thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds <= MAX_RETRY_AFTER else None


def _backoff(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return retry_after
    return float(min(8.0, 0.5 * 2**attempt) * random.uniform(0.75, 1.0))


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    text = str(getattr(exc, "message", "") or exc)
    return text if len(text) <= 500 else text[:500] + "…"

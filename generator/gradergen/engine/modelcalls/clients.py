"""Clients of an OpenAI-compatible API, made with the official `openai` package.

Its clients retry 408, 409, 429, 5XX, timeouts and connection errors with exponential backoff (0.5 s
doubling to 8 s, with jitter, or the wait a Retry-After header asks for), `max_retries` times; each
attempt may take `timeout` seconds. Async clients are kept one per event loop, because a connection
pool belongs to the loop it was opened on.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from typing import Any

from ..errors import EngineError

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
            "max_retries": max_retries,
        }
        self.api_key_env = api_key_env
        self.max_retries = max_retries
        self.timeout = timeout
        self.client = openai.OpenAI(**self._options)
        self.base_url = str(self.client.base_url).rstrip("/")
        self._lock = threading.Lock()
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

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
        if isinstance(exc, openai.APITimeoutError):
            return f"no answer within {self.timeout:g} s{tries} from {self.base_url}", True
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


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    text = str(getattr(exc, "message", "") or exc)
    return text if len(text) <= 500 else text[:500] + "…"

"""The client policy: retries, backoff, caps, timeout, environment variables, headers and the error class
of each status, declared once in the spec's `x-gradergen-client` and printed by every language.

A spec without the block (or without some of its keys) gets the defaults below, which are OpenAI's; every
value given is checked here, so a template only prints it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError
from ..spectext import taint

EXTENSION = "x-gradergen-client"
POINTER = "/" + EXTENSION

SERVER_ERRORS = "5XX"
"""The key that stands for every status from 500 to 599."""


@dataclass
class StatusError:
    """The error class for one status (or, with `status` None, for every 5XX)."""

    status: int | None
    name: str
    """Lower-case words joined by _ (bad_request); each language spells its class from it."""
    description: str
    pointer: str

    def __post_init__(self) -> None:
        self.name = taint(self.name)
        self.description = taint(self.description)

    @property
    def label(self) -> str:
        """The status as documentation shows it: 400, or 5XX."""
        return SERVER_ERRORS if self.status is None else str(self.status)


@dataclass
class ClientPolicy:
    timeout_ms: int = 600_000
    """How long one attempt may take, from connecting to the last byte of the answer."""
    max_retries: int = 2
    backoff_initial_ms: int = 500
    """The wait before the first retry; it doubles before each next one ..."""
    backoff_max_ms: int = 8_000
    """... up to this."""
    backoff_jitter: float = 0.25
    """Each wait is shortened by up to this fraction of itself, at random, so that clients spread out."""
    max_retry_after_ms: int = 60_000
    """A longer Retry-After than this is ignored in favour of the backoff."""
    retry_statuses: list[int] = field(default_factory=lambda: [408, 409, 429])
    retry_server_errors: bool = True
    """Whether every 5XX is retried too."""
    max_response_bytes: int = 32 * 1024 * 1024
    api_key_env: str = "OPENAI_API_KEY"
    base_url_env: str = "OPENAI_BASE_URL"
    request_id_header: str = "x-request-id"
    idempotency_header: str = "Idempotency-Key"
    errors: list[StatusError] = field(default_factory=list)
    """The statuses with a class of their own, in ascending order."""
    server_error: StatusError | None = None
    """The class of every 5XX without one of its own."""

    def __post_init__(self) -> None:
        self.api_key_env = taint(self.api_key_env)
        self.base_url_env = taint(self.base_url_env)
        self.request_id_header = taint(self.request_id_header)
        self.idempotency_header = taint(self.idempotency_header)

    @property
    def all_errors(self) -> list[StatusError]:
        """Every status class, the 5XX one last."""
        return [*self.errors, *([self.server_error] if self.server_error else [])]

    @property
    def retried(self) -> str:
        """The retried statuses in prose: 408, 409, 429 or 5XX."""
        labels = [str(s) for s in self.retry_statuses] + ([SERVER_ERRORS] if self.retry_server_errors else [])
        if len(labels) < 2:
            return "".join(labels)
        return ", ".join(labels[:-1]) + " or " + labels[-1]

    @property
    def jitter_percent(self) -> int:
        return round(self.backoff_jitter * 100)


DEFAULT_ERRORS: dict[str, tuple[str, str]] = {
    "400": ("bad_request", "The request, or the grader in it, is invalid."),
    "401": ("authentication", "The API key is missing or wrong."),
    "403": ("permission_denied", "The API key may not use this endpoint."),
    "404": ("not_found", "The endpoint does not exist."),
    "409": ("conflict", "The request conflicts with another one; it is retried."),
    "422": ("unprocessable_entity", "The request is well-formed but cannot be processed."),
    "429": ("rate_limit", "Too many requests; it is retried."),
    SERVER_ERRORS: ("internal_server", "The API failed; it is retried."),
}

ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
ERROR_NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
KEYS = frozenset(
    "timeout_seconds max_retries backoff max_retry_after_seconds retry_statuses max_response_bytes "
    "environment headers errors".split()
)


def build_policy(doc: dict[str, Any]) -> ClientPolicy:
    raw = doc.get(EXTENSION, {})
    if not isinstance(raw, dict):
        raise SpecError(POINTER, "must be an object (see the README, 'The client policy')")
    _no_unknown_keys(raw, KEYS, POINTER)
    policy = ClientPolicy()
    if "timeout_seconds" in raw:
        policy.timeout_ms = _millis(raw["timeout_seconds"], POINTER + "/timeout_seconds", positive=True)
    if "max_retries" in raw:
        policy.max_retries = _count(raw["max_retries"], POINTER + "/max_retries", 0, 100)
    backoff = _object(raw, "backoff", {"initial_seconds", "max_seconds", "jitter"})
    if "initial_seconds" in backoff:
        policy.backoff_initial_ms = _millis(
            backoff["initial_seconds"], POINTER + "/backoff/initial_seconds", True
        )
    if "max_seconds" in backoff:
        policy.backoff_max_ms = _millis(backoff["max_seconds"], POINTER + "/backoff/max_seconds", True)
    if policy.backoff_max_ms < policy.backoff_initial_ms:
        raise SpecError(POINTER + "/backoff/max_seconds", "must be at least initial_seconds")
    if "jitter" in backoff:
        policy.backoff_jitter = _fraction(backoff["jitter"], POINTER + "/backoff/jitter")
    if "max_retry_after_seconds" in raw:
        policy.max_retry_after_ms = _millis(
            raw["max_retry_after_seconds"], POINTER + "/max_retry_after_seconds"
        )
    if "retry_statuses" in raw:
        policy.retry_statuses, policy.retry_server_errors = _statuses(raw["retry_statuses"])
    if "max_response_bytes" in raw:
        policy.max_response_bytes = _count(
            raw["max_response_bytes"], POINTER + "/max_response_bytes", 1, 2**62
        )
    env = _object(raw, "environment", {"api_key", "base_url"})
    if "api_key" in env:
        policy.api_key_env = _name(
            env["api_key"],
            ENV_NAME,
            POINTER + "/environment/api_key",
            "an environment variable name (A-Z, 0-9, _)",
        )
    if "base_url" in env:
        policy.base_url_env = _name(
            env["base_url"],
            ENV_NAME,
            POINTER + "/environment/base_url",
            "an environment variable name (A-Z, 0-9, _)",
        )
    if policy.api_key_env == policy.base_url_env:
        raise SpecError(POINTER + "/environment", "api_key and base_url name the same variable")
    headers = _object(raw, "headers", {"request_id", "idempotency_key"})
    for key, attr in (("request_id", "request_id_header"), ("idempotency_key", "idempotency_header")):
        if key in headers:
            setattr(
                policy,
                attr,
                _name(
                    headers[key],
                    HEADER_NAME,
                    f"{POINTER}/headers/{key}",
                    "an HTTP header name (letters, digits, -)",
                ),
            )
    policy.errors, policy.server_error = _errors(raw.get("errors"))
    return policy


def _no_unknown_keys(raw: dict[str, Any], known: frozenset[str] | set[str], pointer: str) -> None:
    for key in raw:
        if key not in known:
            raise SpecError(f"{pointer}/{key}", f"unknown key (known: {', '.join(sorted(known))})")


def _object(raw: dict[str, Any], key: str, known: set[str]) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise SpecError(f"{POINTER}/{key}", "must be an object")
    _no_unknown_keys(value, known, f"{POINTER}/{key}")
    return value


def _number(value: Any, pointer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(pointer, f"{value!r} is not a finite number")
    return float(value)


def _millis(value: Any, pointer: str, positive: bool = False) -> int:
    """Seconds, as a whole number of milliseconds (what every language's clock can say exactly)."""
    seconds = _number(value, pointer)
    millis = round(seconds * 1000)
    if abs(seconds * 1000 - millis) > 1e-6 or not 0 <= millis <= 86_400_000:
        raise SpecError(
            pointer, f"{value!r} is not a number of seconds from 0 to 86400 in whole milliseconds"
        )
    if positive and millis == 0:
        raise SpecError(pointer, "must be more than 0 seconds")
    return millis


def _count(value: Any, pointer: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(pointer, f"{value!r} is not a whole number from {low} to {high}")
    return value


def _fraction(value: Any, pointer: str) -> float:
    number = _number(value, pointer)
    if not 0 <= number < 1 or round(number, 2) != number:
        raise SpecError(pointer, f"{value!r} is not a fraction from 0 up to 1 in hundredths (0.25)")
    return number


def _name(value: Any, pattern: re.Pattern[str], pointer: str, rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value) or len(value) > 100:
        raise SpecError(pointer, f"{value!r} is not {rule}")
    return value


def _status(key: Any, pointer: str) -> int | None:
    """A status from 400 to 599 (errors) or 100 to 599 (retries), or None for 5XX."""
    if key == SERVER_ERRORS:
        return None
    text = str(key)
    if isinstance(key, bool) or not text.isdigit() or not 400 <= int(text) <= 599:
        raise SpecError(pointer, f"{key!r} is not an error status (400 to 599) or {SERVER_ERRORS}")
    return int(text)


def _statuses(value: Any) -> tuple[list[int], bool]:
    pointer = POINTER + "/retry_statuses"
    if not isinstance(value, list):
        raise SpecError(pointer, "must be a list of statuses, e.g. [408, 429, 5XX]")
    statuses: list[int] = []
    server = False
    for i, item in enumerate(value):
        status = _status(item, f"{pointer}/{i}")
        if status is None:
            server = True
        elif status in statuses:
            raise SpecError(f"{pointer}/{i}", f"{status} is listed twice")
        elif status >= 500 and server:
            raise SpecError(f"{pointer}/{i}", f"{status} is already retried as a {SERVER_ERRORS}")
        else:
            statuses.append(status)
    if server:
        statuses = [s for s in statuses if s < 500]
    return sorted(statuses), server


def _errors(value: Any) -> tuple[list[StatusError], StatusError | None]:
    pointer = POINTER + "/errors"
    if value is None:
        entries = {key: {"name": n, "description": d} for key, (n, d) in DEFAULT_ERRORS.items()}
        pointers = {key: pointer for key in entries}
    elif not isinstance(value, dict):
        raise SpecError(pointer, "must map statuses to {name, description}")
    else:
        entries = value
        pointers = {key: f"{pointer}/{key}" for key in value}
    errors: list[StatusError] = []
    server: StatusError | None = None
    seen: dict[str, str] = {}
    for key, entry in entries.items():
        where = pointers[key]
        status = _status(key, where)
        if not isinstance(entry, dict):
            raise SpecError(where, "must be an object with a name and a description")
        _no_unknown_keys(entry, {"name", "description"}, where)
        name = _name(
            entry.get("name"), ERROR_NAME, where + "/name", "lower-case words joined by _ (bad_request)"
        )
        if name in seen:
            raise SpecError(where + "/name", f"{name!r} is the name of {seen[name]} too")
        seen[name] = str(key)
        description = entry.get("description", "")
        if not isinstance(description, str):
            raise SpecError(where + "/description", "must be text")
        error = StatusError(status, name, " ".join(description.split()), where)
        if status is None:
            server = error
        else:
            errors.append(error)
    errors.sort(key=lambda e: e.status or 0)
    return errors, server

"""The error envelope of the graders API (`{"error": {code, message, param, type}}`), and the request
parameter a problem is about, written as the service writes it: `grader.graders.a.operation`."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..validation import Problem
from ..validation.problem import parse_pointer

INVALID_REQUEST = "invalid_request_error"
SHOWN_IN_MESSAGE = 5
"""Problems the message lists after the first; every error is in `details` too (up to MAX_DETAILS)."""
MAX_DETAILS = 100
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


class ApiError(Exception):
    """An answer other than 200: its status and the envelope's fields."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        param: str | None = None,
        type_: str = INVALID_REQUEST,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.type = type_
        self.details = list(details)
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "type": self.type,
        }
        if self.details:
            error["details"] = self.details
        return {"error": error}


def param_of(pointer: str, document: Any) -> str | None:
    """A JSON pointer into the request body as a request parameter: `/grader/input/0/content` →
    `grader.input[0].content`. Array positions are told from object keys by the document itself; a
    key that is not a plain name is quoted (`graders["a.b"]`)."""
    parts = parse_pointer(pointer)
    if not parts:
        return None
    out = ""
    node = document
    for part in parts:
        if isinstance(node, list) and part.isdigit():
            out += f"[{part}]"
            node = node[int(part)] if int(part) < len(node) else None
            continue
        if _NAME.match(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
        node = node.get(part) if isinstance(node, dict) else None
    return out


_MISSING = re.compile(r"missing required property ('.*'|\".*\")\Z")


def subject(problem: Problem) -> str:
    """The pointer a problem is about: for a missing property, the property's place, not its parent's."""
    found = _MISSING.match(problem.message) if problem.code == "schema.required" else None
    if found is None:
        return problem.pointer
    name = ast.literal_eval(found.group(1))
    return problem.pointer + "/" + str(name).replace("~", "~0").replace("/", "~1")


def _said(problem: Problem) -> str:
    return f"{problem.message} ({problem.hint})" if problem.hint else problem.message


def invalid_body(problems: Sequence[Problem], document: Any, under: str = "") -> ApiError:
    """400 for a body whose validation found errors: the first one's location in `param`, the first
    few in the message, every error (up to MAX_DETAILS) in `details`. Warnings are left out: they
    never fail a request. `under` is the pointer the problems' pointers are relative to."""
    errors = [p for p in problems if p.severity == "error"]
    located = [(param_of(under + subject(p), document), p) for p in errors]
    first_param, first = located[0]
    message = f"Invalid request body at {first_param or '(the body)'}: {_said(first)}"
    more = located[1 : 1 + SHOWN_IN_MESSAGE]
    if more:
        listed = "; ".join(f"{param or '(the body)'}: {_said(p)}" for param, p in more)
        rest = len(located) - 1 - len(more)
        message += f" (and {len(located) - 1} more: {listed}" + (f"; and {rest} others)" if rest else ")")
    details = [
        {"code": p.code or None, "message": _said(p), "param": param, "type": INVALID_REQUEST}
        for param, p in located[:MAX_DETAILS]
    ]
    return ApiError(400, "invalid_request_body", message, first_param, details=details)


def missing_property(name: str, where: str = "") -> ApiError:
    param = f"{where}.{name}" if where else name
    return ApiError(
        400,
        "invalid_request_body",
        f"Invalid request body at {param}: missing required property {name!r}",
        param,
    )

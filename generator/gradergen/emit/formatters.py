"""Format generated files the way each ecosystem's own formatter would, with fixed settings."""

from __future__ import annotations

import ast
import io
import os
import re
import shutil
import subprocess
import tempfile
import tokenize
from collections.abc import Callable
from pathlib import Path

from ..errors import GradergenError
from .literals import visible

Files = dict[str, str]


PYTHON_STYLE = ("--line-length", "100", "--target-version", "py310")
"""Black's style at 100 columns, as ruff formats it: the same output, a hundred times faster, which
matters for the models file of a large spec (black alone took longer than datamodel-code-generator)."""


def _ruff(files: Files) -> Files:
    py_files = sorted(p for p in files if p.endswith((".py", ".pyi")))
    if not py_files:
        return files
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]  # the pinned ruff's binary

    out = dict(files)
    with tempfile.TemporaryDirectory(prefix="gradergen-ruff-") as tmp:
        for p in py_files:
            target = Path(tmp, p)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(python_ascii(files[p], p), encoding="utf-8")
        # --isolated: no configuration file of the caller's project may change what is generated
        command = [find_ruff_bin(), "format", "--isolated", "--no-cache", *PYTHON_STYLE, *py_files]
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0:
            raise GradergenError(f"generated Python is not valid: {result.stderr.strip()}")
        for p in py_files:
            out[p] = Path(tmp, p).read_text(encoding="utf-8")
    return out


_NOT_PLAIN = re.compile(r"[^\x20-\x7e\n]")


def python_ascii(source: str, path: str) -> str:
    """`source` with every string literal and comment that holds anything but printable ASCII printed
    again by our own escapers: code another tool wrote from spec text (datamodel-code-generator's
    models) then meets the rule ours does, ASCII literals and no invisible characters."""
    if not _NOT_PLAIN.search(source):
        return source
    starts = [0]  # where each line starts; tokenize reads lines that end at \n only
    for line in source.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    edits: list[tuple[int, int, str]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.STRING, tokenize.COMMENT) and _NOT_PLAIN.search(tok.string):
                begin = starts[tok.start[0] - 1] + tok.start[1]
                end = starts[tok.end[0] - 1] + tok.end[1]
                edits.append((begin, end, _reprinted(tok.type, tok.string, path)))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise GradergenError(f"generated {path} is not valid Python: {exc}") from None
    for begin, end, text in reversed(edits):
        source = source[:begin] + text + source[end:]
    return source


def _reprinted(kind: int, token: str, path: str) -> str:
    from ..naming.python import python_docstring, python_string

    if kind == tokenize.COMMENT:
        return "".join(ch if " " <= ch <= "~" else f"\\u{ord(ch):04x}" for ch in visible(token))
    prefix = token[: len(token) - len(token.lstrip("rRuUbBfF"))]
    if set(prefix.lower()) - {"r", "u"}:
        raise GradergenError(f"generated {path} has a {prefix} string of non-ASCII text: {token[:40]!r}")
    value = ast.literal_eval(token)
    body = token[len(prefix) :]
    if body.startswith(('"""', "'''")):
        return '"""' + python_docstring(value) + '"""'
    return python_string(value)


def _gofmt(files: Files) -> Files:
    go_files = sorted(p for p in files if p.endswith(".go"))
    if not go_files:
        return files
    gofmt = shutil.which("gofmt")
    if gofmt is None:
        raise GradergenError("gofmt not found: install Go (https://go.dev/dl/) to generate Go code")
    out = dict(files)
    # one gofmt process for every file: starting it per file would dominate generation time
    with tempfile.TemporaryDirectory(prefix="gradergen-gofmt-") as tmp:
        for p in go_files:
            target = Path(tmp, p)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(files[p], encoding="utf-8")
        result = subprocess.run(
            [gofmt, "-w", *go_files], cwd=tmp, capture_output=True, text=True, env=_short_go_run()
        )
        if result.returncode != 0:
            raise GradergenError(f"gofmt rejected the generated Go code:\n{result.stderr.strip()}")
        for p in go_files:
            out[p] = Path(tmp, p).read_text(encoding="utf-8")
    return out


def _short_go_run() -> dict[str, str]:
    """The environment for a Go tool that runs for a moment: its garbage collector waits until the
    heap reaches 1 GiB (it would otherwise take a third of gofmt's time on a large file), unless the
    caller set GOGC or GOMEMLIMIT themselves."""
    env = dict(os.environ)
    if "GOGC" not in env and "GOMEMLIMIT" not in env:
        env.update(GOGC="off", GOMEMLIMIT="1GiB")
    return env


def _none(files: Files) -> Files:
    return files


FORMATTERS: dict[str, Callable[[Files], Files]] = {"ruff": _ruff, "gofmt": _gofmt, "none": _none}


def run(name: str, files: Files) -> Files:
    try:
        formatter = FORMATTERS[name]
    except KeyError:
        raise GradergenError(f"unknown formatter {name!r} in a templates manifest") from None
    return formatter(files)

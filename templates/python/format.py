"""Python output is formatted by ruff in black's style, with fixed settings of our own."""

from __future__ import annotations

import ast
import io
import re
import subprocess
import tempfile
import tokenize
from pathlib import Path

from gradergen.errors import GradergenError
from gradergen.literals import visible
from gradergen.naming.python import python_docstring, python_string

Files = dict[str, str]

STYLE = ("--line-length", "100", "--target-version", "py310")
"""Black's style at 100 columns, as ruff formats it: the same output, a hundred times faster, which
matters for the models file of a large spec (black alone took longer than datamodel-code-generator)."""


def format_files(files: Files) -> Files:
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
        command = [find_ruff_bin(), "format", "--isolated", "--no-cache", *STYLE, *py_files]
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

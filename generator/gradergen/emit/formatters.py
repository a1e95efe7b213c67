"""Format generated files the way each ecosystem's own formatter would, with fixed settings."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import GradergenError

Files = dict[str, str]


def _black(files: Files) -> Files:
    import black  # imported lazily: only Python output needs it
    from black.mode import Mode, TargetVersion
    from black.parsing import InvalidInput

    mode = Mode(target_versions={TargetVersion.PY310}, line_length=100)
    out = dict(files)
    for path, text in files.items():
        if path.endswith((".py", ".pyi")):
            try:
                out[path] = black.format_str(text, mode=mode)
            except InvalidInput as exc:
                raise GradergenError(f"generated {path} is not valid Python: {exc}") from None
    return out


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
        result = subprocess.run([gofmt, "-w", *go_files], cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0:
            raise GradergenError(f"gofmt rejected the generated Go code:\n{result.stderr.strip()}")
        for p in go_files:
            out[p] = Path(tmp, p).read_text(encoding="utf-8")
    return out


def _none(files: Files) -> Files:
    return files


FORMATTERS: dict[str, Callable[[Files], Files]] = {"black": _black, "gofmt": _gofmt, "none": _none}


def run(name: str, files: Files) -> Files:
    try:
        formatter = FORMATTERS[name]
    except KeyError:
        raise GradergenError(f"unknown formatter {name!r} in a templates manifest") from None
    return formatter(files)

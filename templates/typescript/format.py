"""Formatting the TypeScript bindings with prettier, at the exact version tooling/package-lock.json locks.

The templates and the printer write prettier's layout themselves (layout.py), and a file skips
prettier when every code line of it fits: prettier takes about a second per 100 KB, and most of a
second to start, which made TypeScript the slowest step of a large spec. A spec whose names make a line
too long for the printer to be sure of gets prettier for that file. tests/test_typescript.py checks, on
specs that reach every layout, that prettier leaves the files it skipped as they are.

The tools (prettier, typescript, @types/node) are installed once with `npm ci` into a cache directory
named after the lockfile's hash, so a changed lockfile gets a fresh install and never a stale one. The
tests compile the bindings with the same install (`tools_dir()`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from gradergen.errors import GradergenError
from gradergen.languages import beside

HERE = Path(__file__).resolve().parent
TOOLING = HERE / "tooling"
layout = beside("typescript", "layout.py")
INSTALL_HINT = "install Node.js 20 or later with npm (apt-get install -y nodejs npm, or https://nodejs.org)"

PRETTIER_OPTIONS = ("--no-config", "--no-editorconfig", "--print-width", "100", "--end-of-line", "lf")
"""Prettier's defaults at 100 columns; --no-config: no configuration of the caller's project applies."""

FORMATTED = (".ts", ".mts", ".json", ".md")
TOOL_TIMEOUT = 900
"""Seconds an install or a formatting run may take before it is an error rather than a hang."""


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gradergen"


def _program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise GradergenError(f"{name} not found: {INSTALL_HINT} to generate the TypeScript bindings")
    return path


def tools_dir() -> Path:
    """The directory holding node_modules with the locked tools, installed on first use."""
    lock = (TOOLING / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (TOOLING / "package.json").read_bytes()).hexdigest()[:16]
    target = _cache_root() / f"typescript-tools-{digest}"
    ready = target / ".installed"
    if ready.is_file():
        return target
    npm = _program("npm")
    _program("node")
    target.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # one install at a time; the others wait and find it done
        if ready.is_file():
            return target
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(TOOLING / name, target / name)
        result = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT,
        )
        if result.returncode != 0:
            raise GradergenError(
                f"npm ci of the TypeScript tooling in {target} failed: {result.stderr.strip()[-2000:]}"
            )
        ready.write_text("ok\n", encoding="utf-8")
    return target


def tool(name: str) -> list[str]:
    """The command that runs one of the locked tools: ["node", ".../prettier.cjs"]."""
    entry = {"prettier": "prettier/bin/prettier.cjs", "tsc": "typescript/bin/tsc"}[name]
    return [_program("node"), str(tools_dir() / "node_modules" / entry)]


def format_files(files: dict[str, str]) -> dict[str, str]:
    out = dict(files)
    chosen = []  # the files prettier formats: those with a line the printer could not be sure of
    for p in sorted(files):
        if p.endswith(FORMATTED):
            text = files[p].rstrip("\n") + "\n"
            if layout.is_laid_out(text, markdown=p.endswith(".md")):
                out[p] = text
            else:
                chosen.append(p)
    if not chosen:
        return out
    with tempfile.TemporaryDirectory(prefix="gradergen-prettier-") as tmp:
        for p in chosen:
            target = Path(tmp, p)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(files[p], encoding="utf-8")
        # one process for every file; --ignore-path none: no .prettierignore of a parent applies
        command = [
            *tool("prettier"),
            *PRETTIER_OPTIONS,
            "--ignore-path",
            "",
            "--log-level",
            "warn",
            "--write",
        ]
        result = subprocess.run(
            [*command, *chosen], cwd=tmp, capture_output=True, text=True, timeout=TOOL_TIMEOUT
        )
        if result.returncode != 0:
            raise GradergenError(f"prettier rejected the generated TypeScript:\n{result.stderr.strip()}")
        for p in chosen:
            out[p] = Path(tmp, p).read_text(encoding="utf-8")
    return out

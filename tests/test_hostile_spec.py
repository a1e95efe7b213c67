"""Spec text never becomes code: every language generated from a spec full of payloads builds, passes its
strict checks, loads and runs — and no payload ever ran (the marker file stays absent).

The hostile spec (tests/hostile.py) puts code for Python, Go, Java and Ruby into every description,
summary, title and decision note, and quotes, escapes, interpolation and bidirectional controls into every
enum value and type tag. Fields that have a form of their own (the version, the server URL, the paths, the
SDK names) must keep it: the generator refuses payloads there, at the field's pointer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from hostile import hostile_spec
from test_typescript import execute, link_tools, load_tooling, must, tsc

from gradergen.emit.guard import GuardedEnvironment
from gradergen.languages import languages
from gradergen.literals import escaper, is_invisible, visible
from gradergen.spectext import SpecText

from harness import BIN, SPEC, gradergen, require_tool, run

LANGUAGES = languages()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("hostile")
    marker = root / "payload-ran"
    doc = hostile_spec(marker)
    spec = root / "spec.yaml"
    spec.write_text(yaml.safe_dump(doc, allow_unicode=True, width=10**9), encoding="utf-8")
    result = gradergen("generate", "--spec", str(spec), "--lang", "all", "--out", str(root / "out"), "-q")
    assert result.returncode == 0, result.stderr[-4000:]
    yield {"root": root, "out": root / "out", "marker": marker, "doc": doc}
    assert not marker.exists(), f"a payload ran: {marker.read_text(errors='replace')!r}"


def _no_marker(hostile: dict[str, Any]) -> None:
    assert not hostile["marker"].exists(), f"a payload ran: {hostile['marker'].read_text(errors='replace')!r}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Plain text, as it is.", "Plain text, as it is."),
        ("a\tb", "a    b"),
        ("one\r\ntwo\rthree\x0bfour\u2028five", "one\ntwo\nthree\nfour\nfive"),
        ("bell\x07 and nul\x00", "bell<U+0007> and nul<U+0000>"),
        ("left \u202e right, zero\u200bwidth", "left <U+202E> right, zero<U+200B>width"),
        ("émoji 🎯 and עברית stay", "émoji 🎯 and עברית stay"),
    ],
)
def test_comment_text_has_one_kind_of_break_and_no_invisible_character(text: str, shown: str) -> None:
    assert visible(text) == shown
    assert type(visible(SpecText(text))) is str


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_invisible_character_reaches_generated_files(hostile: dict[str, Any], lang: str) -> None:
    found = []
    for path in sorted((hostile["out"] / lang).rglob("*")):
        if path.is_file() and "target" not in path.parts and path.suffix != ".class":
            text = path.read_text(encoding="utf-8")
            bad = sorted({f"U+{ord(ch):04X}" for ch in text if is_invisible(ch) and ch != "\r"})
            if bad or "\r" in text:
                found.append(f"{path.relative_to(hostile['out'])}: {', '.join(bad) or 'CR'}")
    assert not found, "\n".join(found)


def test_python_output_is_strict_clean_imports_and_keeps_values(hostile: dict[str, Any]) -> None:
    package = hostile["out"] / "python"
    for path in (package / "src").rglob("*.py"):
        assert path.read_text(encoding="utf-8").isascii(), f"{path.name} is not ASCII"
    run([str(BIN / "mypy"), "--strict", "--no-incremental", "src"], cwd=package)
    run([str(BIN / "ruff"), "check", "--no-cache", "."], cwd=package)
    run([str(BIN / "ruff"), "format", "--check", "--no-cache", "--line-length", "100", "."], cwd=package)
    program = """
import json, sys, typing
import openai_graders as g
import openai_graders.cli as cli
parser = cli.build_parser()
resource = "fine-tuning:alpha:graders"
for args in (["--help"], [resource, "--help"], [resource, "run", "--help"], [resource, "validate", "--help"]):
    try:
        parser.parse_args(args)
    except SystemExit:
        pass
client = g.Client(api_key="k")
print(json.dumps({
    "version": g.__version__,
    "base_url": str(client.base_url),
    "operations": list(typing.get_args(g.StringCheckGraderOperation.__value__)),
    "roles": list(typing.get_args(g.EvalItemRole.__value__)),
}))
"""
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", program],
        cwd=package,
        env={**os.environ, "PYTHONPATH": str(package / "src"), "OPENAI_BASE_URL": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    values = json.loads(result.stdout.strip().splitlines()[-1])
    schemas = hostile["doc"]["components"]["schemas"]
    assert values["version"] == hostile["doc"]["info"]["version"]
    assert values["base_url"].rstrip("/") == hostile["doc"]["servers"][0]["url"].rstrip("/")
    assert values["operations"] == schemas["StringCheckGraderOperation"]["enum"]
    assert values["roles"] == schemas["EvalItemRole"]["enum"]
    _no_marker(hostile)


GO_PROGRAM = """package main

import (
	"encoding/json"
	"fmt"

	graders "github.com/gradergen/openai-graders-go"
)

func main() {
	out, _ := json.Marshal(map[string]any{
		"base_url":   graders.DefaultBaseURL,
		"operations": []graders.StringCheckGraderOperation{%s},
	})
	fmt.Println(string(out))
}
"""


def test_go_output_builds_vets_and_keeps_values(hostile: dict[str, Any], tmp_path: Path) -> None:
    go = require_tool("go")
    module = hostile["out"] / "go"
    env = {"GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOWORK": "off"}
    run([go, "build", "./..."], cwd=module, env=env)
    run([go, "vet", "./..."], cwd=module, env=env)
    constants = [
        line.split()[0]
        for line in (module / "models.go").read_text(encoding="utf-8").splitlines()
        if line.startswith("\tStringCheckGraderOperation") and " StringCheckGraderOperation = " in line
    ]
    assert len(constants) == 4, constants
    app = tmp_path / "app"
    app.mkdir()
    (app / "go.mod").write_text(
        "module example.com/app\n\ngo 1.24\n\nrequire github.com/gradergen/openai-graders-go v0.0.0\n\n"
        f"replace github.com/gradergen/openai-graders-go => {module}\n",
        encoding="utf-8",
    )
    (app / "main.go").write_text(GO_PROGRAM % ", ".join(f"graders.{c}" for c in constants), encoding="utf-8")
    values = json.loads(run([go, "run", "."], cwd=app, env=env).strip())
    schemas = hostile["doc"]["components"]["schemas"]
    assert values["base_url"] == hostile["doc"]["servers"][0]["url"]
    assert values["operations"] == schemas["StringCheckGraderOperation"]["enum"]
    _no_marker(hostile)


JAVA_PROGRAM = """
import com.openai.graders.models.graders.gradermodels.StringCheckGrader;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

public final class Values {
    public static void main(String[] args) throws IllegalAccessException {
        StringBuilder out = new StringBuilder();
        for (Field field : StringCheckGrader.Operation.class.getFields()) {
            boolean constant = Modifier.isStatic(field.getModifiers());
            if (constant && field.getType() == StringCheckGrader.Operation.class) {
                out.append(((StringCheckGrader.Operation) field.get(null)).value()).append('\\u0000');
            }
        }
        System.out.print(out);
    }
}
"""


def test_java_output_compiles_documents_and_keeps_values(hostile: dict[str, Any], tmp_path: Path) -> None:
    mvn = require_tool("mvn")
    project = hostile["out"] / "java"
    run([mvn, "-q", "-B", "compile"], cwd=project)  # the project's pom compiles with -Xlint:all -Werror
    classpath_file = tmp_path / "classpath.txt"
    run(
        [mvn, "-q", "-B", "dependency:build-classpath", f"-Dmdep.outputFile={classpath_file}"],
        cwd=project,
    )
    classpath = classpath_file.read_text(encoding="utf-8").strip()
    run(
        [
            require_tool("javadoc"),
            "-quiet",
            "-Xdoclint:all,-missing",
            "-Werror",
            "-d",
            str(tmp_path / "javadoc"),
            "-cp",
            classpath,
            "-sourcepath",
            str(project / "src" / "main" / "java"),
            "-subpackages",
            "com.openai.graders",
        ]
    )
    (tmp_path / "Values.java").write_text(JAVA_PROGRAM, encoding="utf-8")
    full = os.pathsep.join([str(project / "target" / "classes"), classpath])
    run(
        [
            require_tool("javac"),
            "-Xlint:all",
            "-Werror",
            "-cp",
            full,
            "-d",
            str(tmp_path),
            str(tmp_path / "Values.java"),
        ]
    )
    printed = run([require_tool("java"), "-cp", os.pathsep.join([str(tmp_path), full]), "Values"])
    values = printed.split("\0")[:-1]
    assert sorted(values) == sorted(
        hostile["doc"]["components"]["schemas"]["StringCheckGraderOperation"]["enum"]
    )
    _no_marker(hostile)


RUBY_PROGRAM = """
require "json"
require "openai_graders"
Dir[File.join(ARGV[0], "lib", "**", "*.rb")].sort.each { |f| require f }
client = OpenAIGraders::Client.new(api_key: "k")
operation = OpenAIGraders::StringCheckGrader::Operation
values = operation.constants.sort.map { |c| operation.const_get(c).to_s }
$stdout.write(JSON.generate({"base_url" => client.base_url.to_s, "operations" => values}))
"""


def test_ruby_output_loads_silently_and_keeps_values(hostile: dict[str, Any]) -> None:
    ruby = require_tool("ruby")
    gem = hostile["out"] / "ruby"
    result = subprocess.run(
        [ruby, "-w", "-I", str(gem / "lib"), "-e", RUBY_PROGRAM, str(gem)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OPENAI_BASE_URL": ""},
    )
    assert result.returncode == 0 and not result.stderr, result.stderr[-4000:]
    values = json.loads(result.stdout)
    expected = hostile["doc"]["components"]["schemas"]["StringCheckGraderOperation"]["enum"]
    assert sorted(values["operations"]) == sorted(expected)
    assert values["base_url"] == hostile["doc"]["servers"][0]["url"]
    rbs = [ruby, "-rrbs", "-rrbs/cli", "-e", "RBS::CLI.new(stdout: $stdout, stderr: $stderr).run(ARGV)", "--"]
    run([*rbs, "-I", "sig", "validate"], cwd=gem)
    _no_marker(hostile)


TYPESCRIPT_PROGRAM = """
import { DEFAULT_BASE_URL, VERSION, parse } from "./dist/index.js";
const [type, operations] = [process.argv[2], JSON.parse(process.argv[3])];
const read = operations.map(
  (op) => parse("StringCheckGrader", { type, name: "n", input: "", reference: "", operation: op }).operation,
);
console.log(JSON.stringify({ base_url: DEFAULT_BASE_URL, version: VERSION, operations: read }));
"""


def test_typescript_output_compiles_formats_and_keeps_values(hostile: dict[str, Any]) -> None:
    tooling = load_tooling()
    package = hostile["out"] / "typescript"
    link_tools(tooling, package)
    assert tsc(tooling, "-p", "tsconfig.json", "--pretty", "false", cwd=package) == ""  # builds dist/
    files = [str(p.relative_to(package)) for p in sorted((package / "src").rglob("*.ts"))]
    command = [*tooling.tool("prettier"), *tooling.PRETTIER_OPTIONS, "--ignore-path", "", "--check", *files]
    must(execute(command, cwd=package), "prettier --check of the hostile spec's TypeScript")
    schemas = hostile["doc"]["components"]["schemas"]
    program = package / "probe.mjs"
    program.write_text(TYPESCRIPT_PROGRAM, encoding="utf-8")
    operations = json.dumps(schemas["StringCheckGraderOperation"]["enum"])
    tag = schemas["StringCheckGrader"]["properties"]["type"]["const"]
    values = json.loads(must(execute(["node", str(program), tag, operations], cwd=package), "node probe.mjs"))
    assert values["version"] == hostile["doc"]["info"]["version"]
    assert values["base_url"] == hostile["doc"]["servers"][0]["url"]
    assert values["operations"] == schemas["StringCheckGraderOperation"]["enum"]
    _no_marker(hostile)


def test_json_schema_output_is_valid_and_keeps_values(hostile: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((hostile["out"] / "jsonschema" / "grader.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    operations = hostile["doc"]["components"]["schemas"]["StringCheckGraderOperation"]["enum"]
    assert schema["$defs"]["StringCheckGraderOperation"]["enum"] == operations


# ------------------------------------------------------------------------ fields with a form of their own
REFUSED = [
    (["info", "version"], '1" + str(__import__("os").system("id")) + "', "/info/version"),
    (["info", "version"], "1.0\nname = 'x'", "/info/version"),
    (["servers", 0, "url"], 'https://h/v1" + __import__("os").getcwd() + "', "/servers/0/url"),
    (["servers", 0, "url"], "https://h/v1\nFile.write('x')", "/servers/0/url"),
    (["servers", 0, "url"], "javascript:alert(1)", "/servers/0/url"),
]


@pytest.mark.parametrize(("where", "value", "pointer"), REFUSED)
def test_structured_fields_refuse_payloads_at_their_pointer(
    where: list[Any], value: str, pointer: str, tmp_path: Path
) -> None:
    doc = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    node: Any = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    _expect_refusal(doc, pointer, tmp_path)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("x-sdk-method", 'run"; import os #'),
        ("x-sdk-resource", "fine_tuning.alpha.graders\nimport os"),
        ("x-sdk-resource", "Fine-Tuning.graders"),
    ],
)
def test_sdk_names_refuse_payloads(key: str, value: str, tmp_path: Path) -> None:
    doc = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    doc["paths"]["/fine_tuning/alpha/graders/run"]["post"][key] = value
    _expect_refusal(doc, f"/paths/~1fine_tuning~1alpha~1graders~1run/post/{key}", tmp_path)


def test_paths_refuse_payloads(tmp_path: Path) -> None:
    doc = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    doc["paths"]['/fine_tuning/alpha/graders/run"+x+"'] = doc["paths"].pop("/fine_tuning/alpha/graders/run")
    _expect_refusal(doc, '/paths/~1fine_tuning~1alpha~1graders~1run"+x+"', tmp_path)


def _expect_refusal(doc: dict[str, Any], pointer: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = gradergen("generate", "--spec", str(spec), "--lang", "all", "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"#{pointer}: " in lines[0], lines[0]
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- the template guard
@escaper
def _quoted(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _guarded() -> GuardedEnvironment:
    return GuardedEnvironment({"quoted": _quoted}, undefined=jinja2.StrictUndefined)


LAUNDERING = [
    "{{ t }}",
    "{{ t ~ 'x' }}",
    "{{ 'x' ~ t }}",
    "{{ t + 'x' }}",
    "{{ 'x' + t }}",
    "{{ '%s' % t }}",
    "{{ '%s %s' % (t, t) }}",
    "{{ t * 2 }}",
    "{{ t[1:] }}",
    "{{ t.upper() }}",
    "{{ t.replace('a', 'b') }}",
    "{{ '-'.join([t]) }}",
    "{{ '{}'.format(t) }}",
    "{{ t | upper }}",
    "{{ t | trim }}",
    "{{ t | list | join }}",
    "{{ [t] | join(', ') }}",
    "{{ t | replace('a', 'b') }}",
    "{{ t | indent(4) }}",
    "{{ t | wordwrap(5) }}",
    "{{ t | e }}",
    "{{ t | tojson }}",
    "{{ t | string }}",
    "{{ t | reverse | join }}",
    "{{ '%s' | format(t) }}",
    "{% for ch in t %}{{ ch }}{% endfor %}",
    "{% set x = t %}{{ x }}",
    "{{ (t | list)[0] }}",
]


@pytest.mark.parametrize("source", LAUNDERING)
def test_templates_cannot_print_spec_text_without_an_escaper(source: str) -> None:
    template = _guarded().from_string(source)
    with pytest.raises(jinja2.TemplateRuntimeError, match="without an escaper"):
        template.render(t=SpecText('a"b'))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ t | quoted }}", '"a\\"b"'),
        ("{{ (t ~ '!') | quoted }}", '"a\\"b!"'),
        ("{{ t | upper | quoted }}", '"A\\"B"'),
        ("{{ 'plain' ~ 1 }}", "plain1"),
        ("{{ n }}", "3"),
    ],
)
def test_escaped_spec_text_and_template_text_print(source: str, expected: str) -> None:
    assert _guarded().from_string(source).render(t=SpecText('a"b'), n=3) == expected


class _Holder:
    """An object a template reads attributes of, as it reads the IR's."""

    def __init__(self) -> None:
        self.text = SpecText('a"b')
        self.flag = True
        self.name = "plain"


@pytest.mark.parametrize(
    "source",
    [
        "{{ o.text }}",
        "{{ o.text.upper() }}",
        "{{ d.text }}",
        "{{ d['text'] }}",
        "{{ [o][0].text }}",
        "{% set x = o.text %}{{ x }}",
        "{{ o.name ~ o.text }}",
    ],
)
def test_spec_text_read_from_objects_and_mappings_stays_marked(source: str) -> None:
    template = _guarded().from_string(source)
    with pytest.raises(jinja2.TemplateRuntimeError, match="without an escaper"):
        template.render(o=_Holder(), d={"text": SpecText('a"b')})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ o.name }}", "plain"),
        ("{{ o.text | quoted }}", '"a\\"b"'),
        ("{{ d.text | quoted }}", '"a\\"b"'),
        ("{{ d.name }}", "plain"),
    ],
)
def test_attributes_and_keys_print_as_before(source: str, expected: str) -> None:
    mapping = {"text": SpecText('a"b'), "name": "plain"}
    assert _guarded().from_string(source).render(o=_Holder(), d=mapping) == expected


def test_bools_and_missing_attributes_are_refused() -> None:
    with pytest.raises(jinja2.TemplateRuntimeError, match="printed as it is"):
        _guarded().from_string("{{ o.flag }}").render(o=_Holder())
    with pytest.raises(jinja2.UndefinedError, match="no attribute 'missing'"):
        _guarded().from_string("{{ o.missing }}").render(o=_Holder())


def test_every_ir_text_is_marked() -> None:
    from gradergen.generate import load_ir

    ir = load_ir(SPEC)
    texts: list[Any] = [ir.title, ir.version, ir.base_url, ir.description]
    for t in ir.types.values():
        texts += [t.name, t.description]
        for f in getattr(t, "fields", []):
            texts += [f.wire_name, f.description]
        for v in getattr(t, "values", []):
            texts += [v.wire, v.description]
    for op in ir.operations:
        texts += [op.name, op.path, op.summary, op.description, *op.resource]
    assert all(isinstance(text, SpecText) for text in texts)

"""Names that collide are renamed so that the result still builds and round-trips, or refused with one
error line naming both places in the spec.

Two rules, in every language: a spec name that meets a name of the runtime, an import or a method every
model has is renamed with the language's suffix (Client → ClientModel in Python); two spec names that come
out the same in one scope (Foo_Bar and FooBar as Go types, foo_bar and fooBar as Python attributes, two
Ruby files foo_bar.rb) are an error that names both pointers.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import BIN, SPEC, gradergen, require_tool, run

SPEC_DOC = yaml.safe_load(SPEC.read_text(encoding="utf-8"))

RUNTIME_NAMES = [
    # Python: the client and the package's exports, pydantic and typing imports, builtins
    "Client", "BaseModel", "Field", "Literal", "APIError", "str",
    "AsyncClient", "APIResponse", "RequestOptions", "BadRequestError",
    # Go: the runtime's package-level names
    "Nullable", "Error", "NewClient", "RequestIDHeader",
    # Java: the runtime's classes and the JDK's
    "JsonField", "ModelSupport", "ObjectMappers", "OpenAIClient", "HttpTransport", "List", "Optional",
    "OpenAIClientAsync", "UnauthorizedException", "UUID",
    # Ruby: the gem's own constants and core classes
    "Internal", "Errors", "Resources", "Version", "Hash", "RawResponse",
]  # fmt: skip

MEMBER_NAMES = [
    "model_dump", "model_validate_json", "model_config", "self", "class", "copy",  # Python
    "ExtraFields", "MarshalJSON", "IsZero",  # Go
    "builder", "toBuilder", "hashCode", "additionalProperties",  # Java
    "to_h", "from_h", "hash", "inspect", "end", "format",  # Ruby
]  # fmt: skip

ENUM_VALUES = ["class", "END", "BEGIN", "1st", "None", "Builder"]

WEIRD_INSTANCE = {name: f"value of {name}" for name in MEMBER_NAMES} | {"kind": "class"}


def renaming_spec() -> dict[str, Any]:
    doc = copy.deepcopy(SPEC_DOC)
    schemas = doc["components"]["schemas"]
    for name in RUNTIME_NAMES:
        schemas[name] = {"type": "object", "description": f"A schema named {name}.", "properties": {
            "label": {"type": "string"}}}  # fmt: skip
    schemas["Weird"] = {
        "type": "object",
        "description": "Properties named like the members every model has.",
        "properties": {
            **{name: {"type": "string"} for name in MEMBER_NAMES},
            "kind": {"$ref": "#/components/schemas/WeirdKind"},
        },
    }
    schemas["WeirdKind"] = {"type": "string", "enum": ENUM_VALUES}
    return doc


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("renamed")
    spec = root / "spec.yaml"
    spec.write_text(yaml.safe_dump(renaming_spec()), encoding="utf-8")
    result = gradergen("generate", "--spec", str(spec), "--lang", "all", "--out", str(root / "out"), "-q")
    assert result.returncode == 0, result.stderr
    yield root / "out"


PYTHON_PROGRAM = """
import json, sys, warnings
warnings.simplefilter("error")
import openai_graders as g
assert g.Client.__module__ == "openai_graders._client", g.Client
client = g.Client(api_key="k")
for name in json.loads(sys.argv[1]):
    model = getattr(g, name + "Model")
    assert model.__module__ == "openai_graders.models", name
    assert model.model_validate({"label": "x"}).model_dump() == {"label": "x"}
weird = json.loads(sys.argv[2])
parsed = g.Weird.model_validate(weird)
assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == weird
assert parsed.field_model_dump == weird["model_dump"] and callable(parsed.model_dump)
print("ok")
"""


def test_python_renames_around_its_runtime_and_round_trips(renamed: Path) -> None:
    package = renamed / "python"
    run([str(BIN / "mypy"), "--strict", "--no-incremental", "src"], cwd=package)
    run([str(BIN / "ruff"), "check", "--no-cache", "."], cwd=package)
    python_runtime = ["Client", "BaseModel", "Field", "Literal", "APIError", "str",
                      "AsyncClient", "APIResponse", "RequestOptions", "BadRequestError"]  # fmt: skip
    arguments = [json.dumps(python_runtime), json.dumps(WEIRD_INSTANCE)]
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", PYTHON_PROGRAM, *arguments],
        env={**os.environ, "PYTHONPATH": str(package / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok" and not result.stderr, result.stderr


GO_PROGRAM = """package main

import (
	"encoding/json"
	"fmt"
	"os"

	graders "github.com/gradergen/openai-graders-go"
)

func main() {
	var weird graders.Weird
	if err := json.Unmarshal([]byte(os.Args[1]), &weird); err != nil {
		panic(err)
	}
	out, err := json.Marshal(weird)
	if err != nil {
		panic(err)
	}
	_ = graders.NewClient()
	_ = graders.ClientType{}
	_ = graders.ErrorType{}
	fmt.Println(string(out))
}
"""


def test_go_renames_around_its_runtime_and_round_trips(renamed: Path, tmp_path: Path) -> None:
    go = require_tool("go")
    module = renamed / "go"
    env = {"GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOWORK": "off"}
    run([go, "vet", "./..."], cwd=module, env=env)
    (tmp_path / "go.mod").write_text(
        "module example.com/app\n\ngo 1.24\n\nrequire github.com/gradergen/openai-graders-go v0.0.0\n\n"
        f"replace github.com/gradergen/openai-graders-go => {module}\n",
        encoding="utf-8",
    )
    (tmp_path / "main.go").write_text(GO_PROGRAM, encoding="utf-8")
    printed = run([go, "run", ".", json.dumps(WEIRD_INSTANCE)], cwd=tmp_path, env=env)
    assert json.loads(printed) == WEIRD_INSTANCE


JAVA_PROGRAM = """
import com.openai.graders.core.ObjectMappers;
import com.openai.graders.models.graders.gradermodels.JsonFieldModel;
import com.openai.graders.models.graders.gradermodels.ModelSupportModel;
import com.openai.graders.models.graders.gradermodels.OpenAIClientModel;
import com.openai.graders.models.graders.gradermodels.Weird;

public final class RoundTrip {
    public static void main(String[] args) {
        Weird weird = ObjectMappers.fromJson(args[0], Weird.class);
        System.out.print(ObjectMappers.toJson(weird));
        JsonFieldModel.builder().build();
        ModelSupportModel.builder().build();
        OpenAIClientModel.builder().build();
    }
}
"""


def test_java_renames_around_its_runtime_and_round_trips(renamed: Path, tmp_path: Path) -> None:
    mvn = require_tool("mvn")
    project = renamed / "java"
    run([mvn, "-q", "-B", "compile"], cwd=project)
    classpath_file = tmp_path / "classpath.txt"
    run([mvn, "-q", "-B", "dependency:build-classpath", f"-Dmdep.outputFile={classpath_file}"], cwd=project)
    full = os.pathsep.join([str(project / "target" / "classes"), classpath_file.read_text().strip()])
    (tmp_path / "RoundTrip.java").write_text(JAVA_PROGRAM, encoding="utf-8")
    javac = [require_tool("javac"), "-Xlint:all", "-Werror", "-cp", full, "-d", str(tmp_path)]
    run([*javac, str(tmp_path / "RoundTrip.java")])
    java = [require_tool("java"), "-cp", os.pathsep.join([str(tmp_path), full]), "RoundTrip"]
    printed = run([*java, json.dumps(WEIRD_INSTANCE)])
    assert json.loads(printed) == WEIRD_INSTANCE


RUBY_PROGRAM = """
require "json"
require "openai_graders"
weird = OpenAIGraders::Weird.from_json(ARGV[0])
raise "the client was replaced" unless OpenAIGraders::Client.new(api_key: "k").respond_to?(:fine_tuning)
OpenAIGraders::ClientModel.new(label: "x")
OpenAIGraders::InternalModel.new(label: "x")
$stdout.write(weird.to_json)
"""


def test_ruby_renames_around_its_runtime_and_round_trips(renamed: Path) -> None:
    ruby = require_tool("ruby")
    gem = renamed / "ruby"
    result = subprocess.run(
        [ruby, "-w", "-I", str(gem / "lib"), "-e", RUBY_PROGRAM, json.dumps(WEIRD_INSTANCE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert json.loads(result.stdout) == WEIRD_INSTANCE


# ------------------------------------------------------------------------ clashes that must be refused
def _with(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SPEC_DOC)
    change(doc["components"]["schemas"])
    return doc


def _two_casings(schemas: dict[str, Any]) -> None:
    schemas["Foo_Bar"] = {"type": "object", "properties": {"a": {"type": "string"}}}
    schemas["FooBar"] = {"type": "object", "properties": {"b": {"type": "string"}}}


def _two_properties(schemas: dict[str, Any]) -> None:
    schemas["PythonGrader"]["properties"]["fooBar"] = {"type": "string"}
    schemas["PythonGrader"]["properties"]["foo_bar"] = {"type": "string"}


def _two_values(schemas: dict[str, Any]) -> None:
    schemas["StringCheckGraderOperation"]["enum"] += ["a-b", "a_b"]
    schemas["StringCheckGraderOperation"].pop("x-enum-descriptions", None)


def _schema_like_a_fallback(schemas: dict[str, Any]) -> None:
    schemas["UnknownGrader"] = {"type": "object", "properties": {"a": {"type": "string"}}}


CLASHES = [
    # (change, language, the pointer the error is at, the other pointer it names)
    (_two_casings, "go", "/components/schemas/FooBar", "/components/schemas/Foo_Bar"),
    (_two_casings, "java", "/components/schemas/FooBar", "/components/schemas/Foo_Bar"),
    (_two_casings, "ruby", "/components/schemas/FooBar", "/components/schemas/Foo_Bar"),
    (_two_properties, "python", "/components/schemas/PythonGrader/properties/foo_bar",
     "/components/schemas/PythonGrader/properties/fooBar"),
    (_two_properties, "ruby", "/components/schemas/PythonGrader/properties/foo_bar",
     "/components/schemas/PythonGrader/properties/fooBar"),
    (_two_values, "python", None, None),
    (_two_values, "go", "/components/schemas/StringCheckGraderOperation/enum/5",
     "/components/schemas/StringCheckGraderOperation/enum/4"),
    (_two_values, "java", "/components/schemas/StringCheckGraderOperation/enum/5",
     "/components/schemas/StringCheckGraderOperation/enum/4"),
    (_schema_like_a_fallback, "python", "/components/schemas/Grader/oneOf",
     "/components/schemas/UnknownGrader"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "lang", "pointer", "other"), CLASHES)
def test_two_spec_names_that_clash_are_one_error_naming_both(
    change: Any, lang: str, pointer: str | None, other: str | None, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_with(change), sort_keys=False), encoding="utf-8")
    result = gradergen("generate", "--spec", str(spec), "--lang", lang, "--out", str(tmp_path / "out"))
    if pointer is None:  # the enum's values are strings in Python: nothing is named after them
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"#{pointer}: {lang}: " in lines[0] and other in lines[0], lines[0]


def test_python_keeps_two_casings_apart_and_round_trips(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_with(_two_casings)), encoding="utf-8")
    out = str(tmp_path / "py")
    result = gradergen("generate", "--spec", str(spec), "--lang", "python", "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    program = (
        "import openai_graders as g; "
        "assert g.Foo_Bar.model_validate({'a': '1'}).model_dump() == {'a': '1'}; "
        "assert g.FooBar.model_validate({'b': '2'}).model_dump() == {'b': '2'}"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", program],
        env={**os.environ, "PYTHONPATH": str(tmp_path / "py" / "src")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr

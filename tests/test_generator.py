"""The generator: spec → IR decisions, naming, clear errors, deterministic output."""

from __future__ import annotations

import copy
import py_compile
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gradergen.errors import GradergenError, SpecError
from gradergen.ir.build import build_ir
from gradergen.ir.model import Enum, Named, Primitive, Struct, Union
from gradergen.naming.base import Namespace, camel, pascal, screaming, snake, words
from gradergen.options import Options
from gradergen.tree import FILE_LIST, write_tree

from harness import ROOT, SPEC, gradergen

DOC: dict[str, Any] = yaml.safe_load(SPEC.read_text())


def ir_of(doc: dict[str, Any]) -> Any:
    return build_ir(copy.deepcopy(doc))


# ------------------------------------------------------------------ IR decisions
def test_grader_union_dispatches_on_type_with_the_mapping() -> None:
    grader = ir_of(DOC).types["Grader"]
    assert isinstance(grader, Union) and grader.discriminator == "type" and grader.is_tagged_only
    assert {v.tag: v.key for v in grader.variants} == {
        "string_check": "StringCheckGrader",
        "text_similarity": "TextSimilarityGrader",
        "python": "PythonGrader",
        "score_model": "ScoreModelGrader",
        "multi": "MultiGrader",
    }
    assert grader.unknown_name == "UnknownGrader"


def test_content_union_dispatches_by_json_kind_then_tag() -> None:
    content = ir_of(DOC).types["EvalItemContent"]
    assert isinstance(content, Union) and not content.is_tagged_only
    assert content.variant_for_kind("string").key == "TextInput"  # type: ignore[union-attr]
    assert content.variant_for_kind("array").key == "GraderInputs"  # type: ignore[union-attr]
    assert [v.tag for v in content.tagged_variants] == [
        "input_text",
        "output_text",
        "input_image",
        "input_audio",
    ]


def test_presence_distinguishes_optional_nullable_and_required() -> None:
    ir = ir_of(DOC)
    errors = {f.wire_name: f for f in ir.types["GraderRunResponseMetadataErrors"].fields}
    assert errors["python_grader_server_error_type"].presence == "required_nullable"
    assert errors["other_error"].presence == "required"
    sampling = {f.wire_name: f for f in ir.types["SamplingParams"].fields}
    assert sampling["seed"].presence == "optional_nullable"
    assert sampling["reasoning_effort"].presence == "optional_nullable"
    assert sampling["reasoning_effort"].type == Named("ReasoningEffort")
    assert sampling["top_p"].default == 1
    image = {f.wire_name: f for f in ir.types["InputImage"].fields}
    assert image["detail"].presence == "optional" and image["detail"].default == "auto"
    assert image["type"].const == "input_image" and image["type"].is_tag
    token_usage = ir.types["GraderRunResponseMetadataTokenUsage"]
    assert isinstance(token_usage, Union) and token_usage.nullable
    assert [v.json_kind for v in token_usage.variants] == ["integer", "object"]


def test_owners_and_groups() -> None:
    ir = ir_of(DOC)
    operation = ir.types["StringCheckGraderOperation"]
    assert (operation.owner, operation.short_name) == ("StringCheckGrader", "Operation")
    errors = ir.types["GraderRunResponseMetadataErrors"]
    assert (errors.owner, errors.short_name) == ("GraderRunResponseMetadata", "Errors")
    assert ir.types["EvalItem"].owner is None  # shared by two graders: top level
    assert ir.types["GraderRunResponse"].group == "operations"
    assert ir.types["ErrorObject"].group == "operations"
    assert ir.types["StringCheckGrader"].group == "models"
    assert ir.types["EvalItem"].group == "models"


def test_operations_and_resource_tree() -> None:
    ir = ir_of(DOC)
    assert [(op.name, op.path, op.request.name, op.response.name) for op in ir.operations] == [
        ("run", "/fine_tuning/alpha/graders/run", "GraderRunParams", "GraderRunResponse"),
        ("validate", "/fine_tuning/alpha/graders/validate", "GraderValidateParams", "GraderValidateResponse"),
    ]
    (top,) = ir.resources
    assert [r.path for r in top.walk()] == [
        ["fine_tuning"],
        ["fine_tuning", "alpha"],
        ["fine_tuning", "alpha", "graders"],
    ]
    assert [op.name for op in top.walk()[-1].operations] == ["run", "validate"]


def test_decision_notes_are_collected() -> None:
    pointers = [p for p, _ in ir_of(DOC).decisions]
    assert "/components/schemas/MultiGrader" in pointers
    assert "/components/schemas/GraderRunResponseMetadataTokenUsage" in pointers


def _broken(path: list[str], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "pointer", "message"),
    [
        (
            ["components", "schemas", "StringCheckGrader", "properties", "operation"],
            {"type": "string", "enum": ["eq"]},
            "/components/schemas/StringCheckGrader/properties/operation",
            "must be named",
        ),
        (
            ["components", "schemas", "PythonGrader", "properties", "source"],
            {"$ref": "#/components/schemas/Nope"},
            "/components/schemas/PythonGrader",
            "does not exist",
        ),
        (
            ["components", "schemas", "Grader", "discriminator", "mapping", "python"],
            "#/components/schemas/StringCheckGrader",
            "/components/schemas/Grader/discriminator",
            "two tags map",
        ),
        (
            ["components", "schemas", "EvalItemContent", "oneOf"],
            [{"type": "string"}, {"$ref": "#/components/schemas/TextInput"}],
            "/components/schemas/EvalItemContent/oneOf/1",
            "cannot be told apart",
        ),
        (
            ["components", "schemas", "OutputText", "properties", "type"],
            {"type": "string"},
            "/components/schemas/OutputText",
            "with a const",
        ),
        (
            ["paths", "/fine_tuning/alpha/graders/run", "post", "x-sdk-method"],
            None,
            "/paths/~1fine_tuning~1alpha~1graders~1run/post",
            "x-sdk-method",
        ),
    ],
    ids=[
        "inline-enum",
        "dangling-ref",
        "mapping-clash",
        "ambiguous-union",
        "tag-without-const",
        "no-sdk-method",
    ],
)
def test_unusable_specs_are_reported_at_their_pointer(
    path: list[str], value: Any, pointer: str, message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        build_ir(_broken(path, value))
    assert caught.value.pointer.startswith(pointer)
    assert message in caught.value.message


# ------------------------------------------------------------------ naming
def test_casing() -> None:
    assert words("GraderRunResponseMetadata") == ["grader", "run", "response", "metadata"]
    assert snake("additionalInfo") == "additional_info"
    assert pascal("image_url", ["URL"]) == "ImageURL" and pascal("file_id", ["ID"]) == "FileID"
    assert camel("evaluation_metric") == "evaluationMetric"
    assert screaming("rouge_l") == "ROUGE_L"


def test_a_namespace_renames_around_reserved_names_and_refuses_two_spec_names() -> None:
    ns = Namespace("python", "in the package", reserved=["Client", "ClientModel"])
    assert ns.claim("Grader", "/components/schemas/Grader") == "Grader"
    assert ns.claim("Client", "/components/schemas/Client", "Model") == "ClientModel2"
    with pytest.raises(SpecError) as caught:
        ns.claim("Grader", "/components/schemas/grader")
    assert caught.value.pointer == "/components/schemas/grader"
    assert "/components/schemas/Grader" in caught.value.message
    files = Namespace("ruby", "as a file name", fold_case=True)
    files.claim("foo_bar", "/components/schemas/FooBar")
    with pytest.raises(SpecError, match="/components/schemas/FooBar"):
        files.claim("Foo_Bar", "/components/schemas/Foo_Bar")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("python_package", "Bad-Name"),
        ("python_package", "class"),
        ("go_package", "Graders"),
        ("java_package", "com.Acme"),
        ("ruby_module", "acme"),
        ("go_module", "/abs"),
    ],
)
def test_namespace_options_are_checked(option: str, value: str) -> None:
    with pytest.raises(GradergenError, match=f"--{option.replace('_', '-')}"):
        Options(**{option: value})


# ------------------------------------------------------------------ the command
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--lang", "cobol"], "unknown language 'cobol'"),
        (["generate", "--spec", "/does/not/exist.yaml"], "spec file not found"),
        (
            ["generate", "--lang", "python", "--python-package", "my-pkg"],
            "--python-package 'my-pkg' is not valid",
        ),
    ],
)
def test_cli_errors_are_one_clear_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = gradergen(*args, "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("openapi: 3.0.3\npaths: {}\ncomponents: {schemas: {}}\n", "expected an OpenAPI 3.1 document"),
        ("openapi: 3.1.0\npaths: [\n", "not valid YAML at line"),
        ("- just\n- a list\n", "must be a YAML or JSON object"),
        ("\x00\x01binary", "not valid YAML"),
        ("openapi: 3.1.0\npaths: {}\ncomponents: {schemas: {}}\n", "defines no operations"),
    ],
)
def test_invalid_specs_are_clear_errors(content: str, message: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(content)
    result = gradergen("generate", "--lang", "python", "--spec", str(spec), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_generation_is_byte_identical_across_runs(tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = gradergen("generate", "--lang", "python", "--out", str(tmp_path / name), "-q")
        assert result.returncode == 0, result.stderr
    first = {
        p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()
    }
    second = {
        p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()
    }
    assert first == second and len(first) > 5


def test_namespace_option_renames_the_python_package(tmp_path: Path) -> None:
    result = gradergen(
        "generate", "--lang", "python", "--python-package", "acme_graders", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    init = (tmp_path / "src" / "acme_graders" / "__init__.py").read_text()
    assert "from ._client import" in init  # relative imports: the package works under any name
    assert 'name = "acme-graders"' in (tmp_path / "pyproject.toml").read_text()
    assert not (tmp_path / "src" / "openai_graders").exists()


def test_write_tree_replaces_stale_files_and_keeps_foreign_ones(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.txt": "1\n", "sub/b.txt": "2\n"})
    (tmp_path / "mine.txt").write_text("user file")
    written = write_tree(tmp_path, {"a.txt": "1\n", "c.txt": "3\n"})
    assert written == ["c.txt"]
    assert not (tmp_path / "sub").exists()
    assert (tmp_path / "mine.txt").read_text() == "user file"
    assert (tmp_path / FILE_LIST).read_text() == "a.txt\nc.txt\n"
    with pytest.raises(GradergenError, match="outside"):
        write_tree(tmp_path, {"../escape.txt": "x"})


HOSTILE = 'Ends """ a docstring, */ a comment, has \\ and \\n, {{ jinja }}, `ticks`, $x and #{ruby} %s.'


def hostile_spec(tmp_path: Path) -> Path:
    doc = copy.deepcopy(DOC)
    for schema in doc["components"]["schemas"].values():
        schema["description"] = HOSTILE
        for prop in schema.get("properties", {}).values():
            prop["description"] = HOSTILE
    doc["paths"]["/fine_tuning/alpha/graders/run"]["post"]["description"] = HOSTILE
    spec = tmp_path / "hostile.yaml"
    spec.write_text(yaml.safe_dump(doc))
    return spec


def test_descriptions_cannot_break_python_code(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = gradergen(
        "generate", "--lang", "python", "--spec", str(hostile_spec(tmp_path)), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    sources = list(out.rglob("*.py"))
    assert len(sources) >= 6
    for source in sources:
        py_compile.compile(str(source), doraise=True)
    assert "Ends" in (out / "src" / "openai_graders" / "models.py").read_text()


def test_generated_tree_lists_its_files() -> None:
    listing = (ROOT / "generated" / "python" / FILE_LIST).read_text().split()
    assert "src/openai_graders/models.py" in listing and "pyproject.toml" in listing


def test_ir_types_are_what_they_should_be() -> None:
    ir = ir_of(DOC)
    assert isinstance(ir.types["StringCheckGrader"], Struct)
    assert isinstance(ir.types["ReasoningEffort"], Enum)
    assert [v.wire for v in ir.types["ReasoningEffort"].values][-1] == "max"
    item = {f.wire_name: f for f in ir.types["GraderRunParams"].fields}["item"]
    assert item.type.kind == "any" and not item.required
    assert {f.wire_name: f for f in ir.types["GraderRunParams"].fields}["model_sample"].type == Primitive(
        "string"
    )


def test_a_broken_template_is_a_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gradergen import languages
    from gradergen.emit import render as render_module

    lang_dir = tmp_path / "toy"
    lang_dir.mkdir()
    (lang_dir / "manifest.yaml").write_text("naming: python\nfiles:\n  - {template: a.j2, output: a.txt}\n")
    (lang_dir / "a.j2").write_text("line one\n{{ ir.no_such_attribute }}\n")
    options = Options()
    monkeypatch.setattr(render_module, "templates_dir", lambda lang: tmp_path / lang)
    monkeypatch.setattr(languages, "templates_dir", lambda lang: tmp_path / lang)
    with pytest.raises(GradergenError, match=r"templates/toy/a.j2, line 2: UndefinedError"):
        render_module.render("toy", ir_of(DOC), options)


# ------------------------------------------------------------------ languages are discovered
def toy_language(root: Path, manifest: str, **files: str) -> None:
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "manifest.yaml").write_text(manifest)
    for name, text in files.items():
        (root / "toy" / name.replace("__", ".")).write_text(text)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("naming: python\nfromatter: x.py\n", "manifest.yaml: unknown key 'fromatter'"),
        ("naming: python\nformatter: none\n", "'formatter' must name a .py file beside the templates"),
        ("naming: python\nformatter: fmt.py\n", "templates/toy/fmt.py: declared in its manifest but missing"),
        ("naming: nosuch\n", "no naming table 'nosuch'"),
        ("- a list\n", "manifest.yaml: expected a mapping"),
        (
            "naming: python\noptions:\n"
            "  - {name: package, default: 'Bad', pattern: '[a-z]+', example: e, help: h}\n",
            "options[0]: the default 'Bad' does not match its own pattern",
        ),
        (
            "naming: python\noptions:\n"
            "  - {name: package, default: a, pattern: '[a-z', example: e, help: h}\n",
            "options[0]: 'pattern' is not a regular expression",
        ),
    ],
)
def test_a_broken_manifest_is_a_located_error(
    manifest: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradergen import languages
    from gradergen.emit import render as render_module

    toy_language(tmp_path, manifest)
    options = Options()
    monkeypatch.setattr(languages, "templates_dir", lambda lang: tmp_path / lang)
    with pytest.raises(GradergenError, match=re.escape(message)):
        render_module.render("toy", ir_of(DOC), options)


def test_a_language_is_one_folder_its_options_are_flags(tmp_path: Path) -> None:
    """A language added as a templates folder (in a copy of the data root) is generated, formatted by
    the module its manifest names, and its namespace option is a flag of `gradergen generate`."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(ROOT / "templates", data / "templates")
    shutil.copytree(ROOT / "spec", data / "spec")
    toy_language(
        data / "templates",
        "naming: python\nformatter: shout.py\noptions:\n"
        "  - {name: greeting, default: hello, pattern: '[a-z]+',\n"
        "     example: 'lower-case letters', help: what to say}\n"
        "files:\n  - {template: a.j2, output: a.txt}\n",
        a__j2="{{ options.toy_greeting }} {{ ir.types | length }}\n",
        shout__py="def format_files(files):\n    return {p: t.upper() for p, t in files.items()}\n",
    )
    script = (
        "import sys; from gradergen import resources; from pathlib import Path\n"
        f"resources.data_root = lambda: Path({str(data)!r})\n"
        "from gradergen import cli; sys.exit(cli.main(sys.argv[1:]))\n"
    )
    run = [sys.executable, "-c", script, "generate", "--lang", "toy", "--out", str(tmp_path / "out"), "-q"]
    done = subprocess.run([*run, "--toy-greeting", "hi"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "a.txt").read_text().startswith("HI ")
    bad = subprocess.run([*run, "--toy-greeting", "Hi!"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "--toy-greeting 'Hi!' is not valid: expected lower-case letters" in bad.stderr


# ------------------------------------------------------------------ one rule for every reader
def test_every_union_has_one_dispatch_rule() -> None:
    ir = ir_of(DOC)
    grader = ir.types["Grader"]
    assert isinstance(grader, Union)
    dispatch = grader.dispatch
    assert dispatch.tag_name == "type" and not dispatch.by_kind
    assert set(dispatch.by_tag) == {"string_check", "text_similarity", "python", "score_model", "multi"}
    content = ir.types["EvalItemContent"]
    assert isinstance(content, Union)
    assert list(content.dispatch.by_kind) == ["string", "array"]  # checked in KIND_ORDER
    assert content.dispatch.by_tag and content.dispatch.tag_name == "type"


def test_a_number_member_reads_integers_unless_an_integer_member_does() -> None:
    doc = copy.deepcopy(DOC)
    schemas = doc["components"]["schemas"]
    schemas["Amount"] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
    schemas["Count"] = {"oneOf": [{"type": "number"}, {"type": "integer"}]}
    ir = ir_of(doc)
    amount, count = ir.types["Amount"].dispatch, ir.types["Count"].dispatch
    assert [(k, v.json_kind) for k, v in amount.by_kind.items()] == [
        ("integer", "number"),
        ("number", "number"),
        ("string", "string"),
    ]
    assert [(k, v.json_kind) for k, v in count.by_kind.items()] == [
        ("integer", "integer"),
        ("number", "number"),
    ]


@pytest.mark.parametrize(
    ("plural", "element"),
    [
        ("graders", "grader"),
        ("labels", "label"),
        ("entries", "entry"),
        ("addresses", "address"),
        ("boxes", "box"),
        ("matches", "match"),
        ("status", "status"),
        ("analysis", "analysis"),
        ("class", "class"),
    ],
)
def test_one_singular_for_every_language(plural: str, element: str) -> None:
    from gradergen.naming.base import singular

    assert singular(plural) == element

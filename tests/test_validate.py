"""gradergen.validate: the corpus of valid and broken graders, located problems, and each rule's parser."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import gradergen
from gradergen.language.formula import FormulaError, parse_formula
from gradergen.validation.run import Report
from gradergen.validation.streams import JsonlLines, is_regular
from gradergen.validation.suggest import closest
from gradergen.validation.templates import check_templates

from harness import ROOT

CORPUS = ROOT / "tests" / "validate_corpus"
INVALID: dict[str, dict[str, str]] = json.loads((CORPUS / "invalid.json").read_text())
WARNINGS: dict[str, dict[str, str]] = json.loads((CORPUS / "warnings.json").read_text())


def documents(path: Path) -> list[Any]:
    """A corpus file's documents, read without gradergen."""
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if path.suffix == ".yaml":
        return list(yaml.safe_load_all(text))
    return [json.loads(text)]


def valid_files() -> list[Path]:
    return sorted(p for p in (CORPUS / "valid").iterdir() if p.is_file())


def described(problems: list[gradergen.Problem]) -> str:
    return "\n".join(f"{p.severity} {p.code} {p.describe()}" for p in problems)


# --------------------------------------------------------------------------- the corpus
@pytest.mark.parametrize("path", valid_files(), ids=lambda p: p.name)
def test_every_valid_document_passes_even_strictly(path: Path) -> None:
    problems = gradergen.validate_text(path.read_text(), name=path.name, strict=True)
    assert problems == [], described(problems)
    for doc in documents(path):
        assert gradergen.validate(doc, strict=True) == []


def test_the_valid_corpus_covers_every_type_value_and_part() -> None:
    seen: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("type", "operation", "evaluation_metric", "role", "format", "reasoning_effort"):
                if isinstance(node.get(key), str):
                    seen.add(f"{key}={node[key]}")
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for path in valid_files():
        for doc in documents(path):
            collect(doc)
    spec = yaml.safe_load((ROOT / "spec" / "graders.openapi.yaml").read_text())["components"]["schemas"]
    wanted = {f"type={tag}" for tag in spec["SubGrader"]["discriminator"]["mapping"]}
    wanted |= {f"type={tag}" for tag in spec["Grader"]["discriminator"]["mapping"]}
    wanted |= {f"type={tag}" for tag in spec["EvalItemContent"]["discriminator"]["mapping"]}
    wanted |= {f"operation={v}" for v in spec["StringCheckGraderOperation"]["enum"]}
    wanted |= {f"evaluation_metric={v}" for v in spec["TextSimilarityGraderEvaluationMetric"]["enum"]}
    wanted |= {f"role={v}" for v in spec["EvalItemRole"]["enum"]}
    wanted |= {f"format={v}" for v in spec["ResponseInputAudioInputAudioFormat"]["enum"]}
    wanted |= {f"reasoning_effort={v}" for v in spec["ReasoningEffort"]["enum"]}
    wanted |= {"type=message"}
    assert wanted - seen == set()


def test_the_multi_formula_uses_every_function() -> None:
    formula = json.loads((CORPUS / "valid" / "multi_every_function.json").read_text())["calculate_output"]
    for name in ("min", "max", "abs", "floor", "ceil", "exp", "sqrt", "log"):
        assert f"{name}(" in formula
    assert all(op in formula for op in "+-*/^()")


@pytest.mark.parametrize("name", sorted(INVALID), ids=lambda n: n.removesuffix(".json"))
def test_every_invalid_document_names_its_pointer(name: str) -> None:
    expected = INVALID[name]
    doc = json.loads((CORPUS / "invalid" / name).read_text())
    problems = gradergen.validate(doc)
    matching = [
        p
        for p in problems
        if p.severity == "error"
        and p.pointer == expected["pointer"]
        and p.code == expected["code"]
        and expected["message"] in p.message
        and expected.get("hint", "") in p.hint
    ]
    assert matching, f"expected {expected}\ngot:\n{described(problems)}"


@pytest.mark.parametrize("name", sorted(WARNINGS), ids=lambda n: n.removesuffix(".json"))
def test_warnings_pass_but_fail_strictly(name: str) -> None:
    expected = WARNINGS[name]
    doc = json.loads((CORPUS / "warnings" / name).read_text())
    problems = gradergen.validate(doc)
    assert [(p.severity, p.pointer, p.code) for p in problems] == [
        ("warning", expected["pointer"], expected["code"])
    ], described(problems)
    assert expected["message"] in problems[0].message and expected["hint"] in problems[0].hint
    strict = gradergen.validate(doc, strict=True)
    assert [(p.severity, p.pointer) for p in strict] == [("error", expected["pointer"])]


def test_the_issue_examples_read_as_documented() -> None:
    doc = {
        "type": "multi",
        "name": "m",
        "calculate_output": "a + b",
        "graders": {
            "a": {"type": "string_check", "name": "a", "input": "x", "reference": "y", "operation": "neq"},
            "b": {
                "type": "text_similarity",
                "name": "b",
                "input": "x",
                "reference": "y",
                "evaluation_metric": "rouge-l",
            },
        },
    }
    assert [p.describe() for p in gradergen.validate(doc)] == [
        "/graders/a/operation: 'neq' is not one of eq, ne, like, ilike (did you mean 'ne'?)",
        "/graders/b/evaluation_metric: 'rouge-l' is not one of cosine, fuzzy_match, bleu, gleu, meteor, "
        "rouge_1, rouge_2, rouge_3, rouge_4, rouge_5, rouge_l (did you mean 'rouge_l'?)",
    ]


# --------------------------------------------------------------------------- the API
def test_a_problem_carries_severity_pointer_message_hint_and_code() -> None:
    (problem,) = gradergen.validate(json.loads((CORPUS / "invalid" / "operation_neq.json").read_text()))
    assert problem.as_dict() == {
        "severity": "error",
        "pointer": "/operation",
        "message": "'neq' is not one of eq, ne, like, ilike",
        "hint": "did you mean 'ne'?",
        "code": "schema.enum",
        "line": None,
        "column": None,
    }


def test_problems_come_in_document_order() -> None:
    doc = {
        "type": "multi",
        "name": 5,
        "graders": {
            "z": {
                "type": "string_check",
                "name": "z",
                "input": "{{ itm.x }}",
                "reference": "r",
                "operation": "eq",
            },
            "a": {"type": "python", "name": "a", "source": "def grade(s):\n    return 1\n"},
        },
        "calculate_output": "z + a + q",
    }
    assert [p.pointer for p in gradergen.validate(doc)] == [
        "/name",
        "/graders/z/input",
        "/graders/a/source",
        "/calculate_output",
    ]


def test_request_bodies_are_told_apart_from_graders() -> None:
    grader = {"type": "string_check", "name": "n", "input": "a", "reference": "b", "operation": "eq"}
    assert gradergen.validate({"grader": grader}) == []
    assert gradergen.validate({"grader": grader, "model_sample": "x", "item": [1]}) == []
    (missing,) = gradergen.validate({"grader": grader, "item": {}})
    assert (missing.pointer, missing.message) == ("", "missing required property 'model_sample'")
    (wrong,) = gradergen.validate({"grader": {**grader, "operation": "="}})
    assert wrong.pointer == "/grader/operation"


@pytest.mark.parametrize("value", [[], "grader", 3, None, True, 1.5])
def test_a_document_that_is_not_an_object_is_an_input_problem(value: Any) -> None:
    (problem,) = gradergen.validate(value)
    assert (problem.severity, problem.pointer, problem.code) == ("error", "", "input")
    assert problem.message.startswith("expected an object (a grader or a request body), found ")


def test_the_editor_schema_key_is_not_an_unknown_property() -> None:
    doc = {
        "$schema": "./grader.schema.json",
        "type": "python",
        "name": "p",
        "source": "def grade(a, b): pass",
    }
    assert gradergen.validate(doc, strict=True) == []


def test_a_python_source_over_256_kb_is_refused_without_parsing() -> None:
    source = "def grade(sample, item):\n    return 1.0\n" + "# padding\n" * 30_000
    (problem,) = gradergen.validate({"type": "python", "name": "big", "source": source})
    assert problem.pointer == "/source" and "must be under 256 kB" in problem.message


def test_a_label_model_outside_a_multi_still_gets_its_own_checks() -> None:
    doc = {
        "type": "label_model",
        "name": "l",
        "model": "m",
        "input": [{"role": "user", "content": "{{ item }}"}],
        "labels": ["a", "a"],
        "passing_labels": ["b"],
    }
    assert [(p.pointer, p.code) for p in gradergen.validate(doc)] == [
        ("/type", "placement"),
        ("/labels/1", "labels"),
        ("/passing_labels/0", "labels"),
    ]


def test_a_grader_without_a_name_is_a_warning_wherever_it_is() -> None:
    python = {"type": "python", "source": "def grade(sample, item):\n    return 1.0\n"}
    body = gradergen.validate({"grader": python, "model_sample": "x"})
    assert [(p.severity, p.pointer, p.code) for p in body] == [("warning", "/grader", "missing-name")]
    assert "official SDK types and the generated bindings require it" in body[0].message
    multi = {"type": "multi", "name": "m", "graders": {"a": python}, "calculate_output": "a"}
    (inner,) = gradergen.validate(multi)
    assert (inner.severity, inner.pointer) == ("warning", "/graders/a")
    assert [p.severity for p in gradergen.validate(multi, strict=True)] == ["error"]
    (wrong,) = gradergen.validate({**python, "name": None})
    assert (wrong.severity, wrong.code) == ("error", "schema.type")  # absent is allowed, null is not


def test_max_completions_tokens_is_at_least_1() -> None:
    grader = json.loads((CORPUS / "valid" / "score_model_content_parts.json").read_text())
    for tokens in (1, 4096, None):
        assert gradergen.validate({**grader, "sampling_params": {"max_completions_tokens": tokens}}) == []
    for tokens, shown in ((0, "0"), (-5, "-5"), (0.0, "0.0")):
        (problem,) = gradergen.validate({**grader, "sampling_params": {"max_completions_tokens": tokens}})
        assert (problem.pointer, problem.code) == (
            "/sampling_params/max_completions_tokens",
            "sampling-params",
        )
        assert problem.message == f"max_completions_tokens must be at least 1, found {shown}"
    (typed,) = gradergen.validate({**grader, "sampling_params": {"max_completions_tokens": "0"}})
    assert typed.code == "schema.type"


def test_non_finite_numbers_get_their_own_message() -> None:
    """YAML's .nan and .inf used to read as a reversed range ("write [inf, nan]")."""
    text = (
        "type: score_model\n"
        "name: judge\n"
        "model: o3-mini\n"
        "input: [{role: user, content: 'Score {{ sample.output_text }}'}]\n"
        "range: [.nan, .inf]\n"
        "sampling_params: {temperature: -.inf, top_p: .NaN}\n"
    )
    problems = gradergen.validate_text(text, name="judge.yaml")
    assert [(p.pointer, p.message, p.line, p.column) for p in problems] == [
        ("/range/0", "nan is not a finite number", 5, 9),
        ("/range/1", "inf is not a finite number", 5, 15),
        ("/sampling_params/temperature", "-inf is not a finite number", 6, 32),
        ("/sampling_params/top_p", "nan is not a finite number", 6, 46),
    ]
    hint = "JSON, which the API reads, has no infinity or NaN: write a finite number"
    assert {(p.severity, p.code, p.hint) for p in problems} == {("error", "number", hint)}
    huge = '{"type": "score_model", "name": "j", "model": "m", "input": [], "range": [0, 1e999]}'
    (overflow,) = gradergen.validate_text(huge, name="judge.json")
    assert (overflow.pointer, overflow.message) == ("/range/1", "inf is not a finite number")


# --------------------------------------------------------------------------- located problems
def test_json_problems_have_the_line_and_column_of_their_value(tmp_path: Path) -> None:
    text = (CORPUS / "invalid" / "multi_inside_multi.json").read_text()
    (problem,) = gradergen.validate_text(text, name="x.json")
    rows = text.splitlines()
    line = next(i for i, row in enumerate(rows) if '"type": "multi"' in row and i > 3)
    assert (problem.pointer, problem.line, problem.column) == (
        "/graders/inner/type",
        line + 1,
        rows[line].index('"multi"') + 1,
    )


def test_unknown_properties_point_at_their_name() -> None:
    text = '{"type": "python", "name": "p",\n  "pass_threshold": 0.5, "source": "def grade(a, b): return 1"}'
    (problem,) = gradergen.validate_text(text, name="p.json")
    assert (problem.pointer, problem.line, problem.column) == ("/pass_threshold", 2, 3)


def test_a_missing_property_points_at_its_object() -> None:
    text = '{"grader":\n    {"type": "python", "name": "p"}}'
    (problem,) = gradergen.validate_text(text, name="req.json")
    assert (problem.pointer, problem.message, problem.line, problem.column) == (
        "/grader",
        "missing required property 'source'",
        2,
        5,
    )


def test_yaml_problems_have_their_line_and_column() -> None:
    text = (
        "type: multi\n"
        "name: m\n"
        "calculate_output: a\n"
        "graders:\n"
        "  a:\n"
        "    type: score_model\n"
        "    name: s\n"
        "    model: o3\n"
        "    range: [5, 1]\n"
        "    input:\n"
        "      - role: judge\n"
        "        content: hi\n"
    )
    problems = gradergen.validate_text(text, name="g.yaml")
    assert [(p.pointer, p.line, p.column) for p in problems] == [
        ("/graders/a/range", 9, 12),
        ("/graders/a/input/0/role", 11, 15),
    ]


def test_yaml_merge_keys_and_several_documents() -> None:
    text = (
        "base: &base\n"
        "  type: string_check\n"
        "  operation: neq\n"
        "---\n"
        "<<: {type: string_check, operation: neq}\n"
        "name: n\n"
        "input: '{{ sample.output_text }}'\n"
        "reference: r\n"
    )
    problems = gradergen.validate_text(text, name="two.yaml")
    assert [(p.pointer, p.line, p.code) for p in problems if p.line and p.line > 3] == [
        ("/operation", 5, "schema.enum")
    ]
    assert problems[0].line is not None and problems[0].line <= 3  # the first document misses fields


def test_jsonl_problems_carry_their_line() -> None:
    good = '{"type": "python", "name": "p", "source": "def grade(a, b): return 1"}'
    text = "\n".join([good, "", good.replace('"p"', "1"), "{oops", good]) + "\n"
    problems = gradergen.validate_text(text, name="many.jsonl")
    assert [(p.line, p.column, p.code) for p in problems] == [(3, 28, "schema.type"), (4, 2, "input")]


def test_json_without_a_name_is_recognised_from_its_text() -> None:
    assert gradergen.validate_text('{"grader": {"type": "python", "name": "x", "source": "grade = 1"}}') == []
    flow = "{input: input, name: name, operation: eq, reference: reference, type: string_check}"
    assert gradergen.validate_text(flow) == []


@pytest.mark.parametrize(
    ("text", "name", "message", "line", "column"),
    [
        ('{\n  "type": "python",\n}', "a.json", "not valid JSON: Expecting property name", 3, 1),
        ("type: python\nname: [a\n", "a.yaml", "not valid YAML", 3, 1),
        ('{"a": 1}\x00', "a.json", "binary data: a NUL character", 1, 9),
        ("", "a.json", "empty", None, None),
        ("  \n", "a.yaml", "empty", None, None),
        ("[" * 10_000 + "]" * 10_000, "a.json", "nesting is too deep to read", 1, 10_000),
        ("[1, 2]", "a.json", "expected an object (a grader or a request body), found an array", 1, 1),
        ('{"type": NaN}', "a.json", "NaN is not a JSON number", 1, 10),
        (
            '{"seed":\n  ' + "9" * 5000 + "}",
            "a.json",
            "a number of 5,000 digits is longer than can be read",
            2,
            3,
        ),
        ("type: python\nname: \ud800\n", "a.yaml", "not UTF-8 text: a lone surrogate", 2, 7),
        ('{"name": "\udcff"}', "a.json", "not UTF-8 text: a lone surrogate", 1, 11),
    ],
)
def test_unreadable_text_is_one_located_input_problem(
    text: str, name: str, message: str, line: int | None, column: int | None
) -> None:
    (problem,) = gradergen.validate_text(text, name=name)
    assert (problem.severity, problem.code) == ("error", "input")
    assert message in problem.message
    assert (problem.line, problem.column) == (line, column)


def test_values_python_will_not_print_are_still_reported() -> None:
    """Found by bench/soak_validate.py: jsonschema prints every value it reports on, and Python refuses
    to print an integer of over 4,300 digits, or a list nested 900 deep from inside jsonschema."""
    (huge,) = gradergen.validate({"type": "python", "name": 10**5000, "source": "def grade(s, i): pass"})
    assert huge.describe() == "/name: expected a string, found an integer (an integer of about 5,001 digits)"
    deep: Any = "x"
    for _ in range(900):
        deep = [deep]
    text = json.dumps({"type": "python", "name": deep, "source": "def grade(s, i): pass"})
    (nested,) = gradergen.validate_text(text, name="deep.json")
    assert (nested.pointer, nested.message, nested.line) == ("/name", "expected a string, found an array", 1)
    score = json.loads((CORPUS / "valid" / "score_model_content_parts.json").read_text())
    (reversed_range,) = gradergen.validate({**score, "range": [10**5000, -(10**5000)]})
    assert reversed_range.message == (
        "range [an integer of about 5,001 digits, a negative integer of about 5,001 digits] "
        "has its minimum above its maximum"
    )


# --------------------------------------------------------------------------- linear locating
KEYS = 100_000
STRING_CHECK = {"type": "string_check", "name": "n", "input": "a", "reference": "b", "operation": "eq"}


def test_json_with_100000_unknown_keys_locates_each_one() -> None:
    """Each key on its own line, each warning at its line (a rescan of the object per problem took
    2.5 s for 1,000 keys and never finished for 10,000)."""
    text = json.dumps({**STRING_CHECK, **{f"k{i}": i for i in range(KEYS)}}, indent=0)
    problems = gradergen.validate_text(text, name="many.json")
    first = len(STRING_CHECK) + 2  # after "{" and the grader's own lines
    assert [p.line for p in problems] == list(range(first, first + KEYS))
    assert {(p.code, p.column) for p in problems} == {("unknown-property", 1)}
    assert [p.pointer for p in problems[:: KEYS // 4]] == [f"/k{i}" for i in range(0, KEYS, KEYS // 4)]


def test_yaml_with_100000_unknown_keys_locates_each_one() -> None:
    rows = [f"{k}: {v}\n" for k, v in STRING_CHECK.items()] + [f"k{i}: {i}\n" for i in range(KEYS)]
    problems = gradergen.validate_text("".join(rows), name="many.yaml")
    first = len(STRING_CHECK) + 1
    assert [p.line for p in problems] == list(range(first, first + KEYS))
    assert problems[-1].pointer == f"/k{KEYS - 1}"


def test_a_long_array_with_a_problem_in_each_item_locates_each_one() -> None:
    count = 20_000
    grader = {
        "type": "multi",
        "name": "m",
        "calculate_output": "l",
        "graders": {
            "l": {
                "type": "label_model",
                "name": "l",
                "model": "m",
                "input": [{"role": "user", "content": "{{ item.x }}"}],
                "labels": ["a"] * count,
                "passing_labels": ["a"],
            }
        },
    }
    text = json.dumps(grader, indent=0)
    problems = gradergen.validate_text(text, name="labels.json")
    first = text.splitlines().index('"labels": [') + 2
    assert [(p.pointer, p.line) for p in problems] == [
        (f"/graders/l/labels/{i}", first + i) for i in range(1, count)
    ]


# --------------------------------------------------------------------------- duplicate keys
def test_a_duplicate_json_key_is_an_error_at_its_second_occurrence() -> None:
    text = (
        '{"type": "string_check", "name": "first", "input": "a",\n'
        '  "reference": "b", "operation": "eq",\n'
        '  "name": "second"}'
    )
    (problem,) = gradergen.validate_text(text, name="dup.json")
    assert (problem.severity, problem.code, problem.pointer) == ("error", "duplicate-key", "/name")
    assert (problem.line, problem.column) == (3, 3)
    assert problem.message == "duplicate key 'name' (first written at line 1, column 26)"
    assert "the service and the SDKs" in problem.hint


def test_duplicate_keys_are_found_at_every_depth_and_among_other_problems() -> None:
    text = (
        "{\n"
        '  "grader": {"type": "python", "name": "p", "source": "def grade(s, i): return 1",\n'
        '             "type": "python", "pass_threshold": 1},\n'
        '  "model_sample": "x",\n'
        '  "item": {"rows": [{}, {"k": 1, "k": 2, "k": 3}], "deleted": {"a": 1, "a": 2}},\n'
        '  "item": {"rows": []}\n'
        "}\n"
    )
    problems = gradergen.validate_text(text, name="request.json")
    assert [(p.code, p.pointer, p.line) for p in problems] == [
        ("duplicate-key", "/grader/type", 3),
        ("unknown-property", "/grader/pass_threshold", 3),
        ("duplicate-key", "/item/rows/1/k", 5),
        ("duplicate-key", "/item/rows/1/k", 5),
        ("duplicate-key", "/item/deleted/a", 5),
        ("duplicate-key", "/item", 6),
    ]
    assert all("first written at line 5" in p.message for p in problems[2:5])


def test_a_duplicate_yaml_key_is_an_error_at_its_second_occurrence() -> None:
    text = (
        "type: multi\n"
        "name: m\n"
        "calculate_output: a\n"
        "graders:\n"
        "  a: {type: python, name: a, source: 'def grade(s, i): return 1'}\n"
        "  a: {type: python, name: b, source: 'def grade(s, i): return 0'}\n"
        "name: n\n"
    )
    problems = gradergen.validate_text(text, name="dup.yaml")
    assert [(p.code, p.pointer, p.line, p.column) for p in problems] == [
        ("duplicate-key", "/graders/a", 6, 3),
        ("duplicate-key", "/name", 7, 1),
    ]
    assert problems[1].message == "duplicate key 'name' (first written at line 2, column 1)"


def test_a_yaml_merge_is_not_a_duplicate_but_a_key_written_twice_is() -> None:
    text = "<<: {type: python, name: p}\nname: q\nsource: 'def grade(s, i): return 1'\n"
    assert gradergen.validate_text(text, name="m.yaml") == []
    twice = "<<: {type: python}\nname: q\nname: q\nsource: 'def grade(s, i): return 1'\n"
    assert [(p.code, p.line) for p in gradergen.validate_text(twice, name="m.yaml")] == [("duplicate-key", 3)]


def test_duplicate_keys_in_jsonl_carry_their_line() -> None:
    good = '{"type": "python", "name": "p", "source": "def grade(a, b): return 1"}'
    text = "\n".join([good, good.replace('"name": "p"', '"name": "p", "name": "q"')]) + "\n"
    (problem,) = gradergen.validate_text(text, name="many.jsonl")
    assert (problem.code, problem.line, problem.column) == ("duplicate-key", 2, 33)
    assert "first written at line 2, column 20" in problem.message


# --------------------------------------------------------------------------- bounded reading
class Endless(io.RawIOBase):
    """/dev/zero's behaviour, with a count of the bytes handed out."""

    def __init__(self, fill: bytes = b"\0") -> None:
        self.fill = fill
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = self.fill * len(buffer)
        self.given += len(buffer)
        return len(buffer)


@pytest.mark.parametrize("fill", [b"\0", b" ", b"{"])
def test_an_endless_stream_is_read_no_further_than_one_document(fill: bytes) -> None:
    source = Endless(fill)
    report = Report("<stdin>")
    limit = 2**20
    lines = JsonlLines(io.BufferedReader(source), limit, report, skippable=False)
    assert list(lines) == []
    (problem,) = report.problems
    assert (problem.code, problem.line) == ("input", 1)
    assert "reading stops here" in problem.message
    assert source.given <= limit + 2 * io.DEFAULT_BUFFER_SIZE


def test_an_over_long_line_of_a_regular_file_is_skipped_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    good = '{"type": "python", "name": "p", "source": "def grade(s, i): return 1"}'
    path.write_text(good + "\n" + "x" * (3 * 2**20) + "\n" + good.replace('"p"', "1") + "\n")
    report = Report(str(path))
    with path.open("rb") as stream:
        documents = list(JsonlLines(stream, 2**20, report, skippable=is_regular(stream)))
    assert [number for number, _ in documents] == [1, 3]
    (problem,) = report.problems
    assert (problem.line, problem.message) == (
        2,
        "3.1 MB is too large for a grader file (the limit is 1 MiB)",
    )


def test_a_pipe_is_not_taken_for_a_regular_file() -> None:
    read, write = os.pipe()
    with os.fdopen(read, "rb") as stream, os.fdopen(write, "wb"):
        assert not is_regular(stream)


# --------------------------------------------------------------------------- the parsers of each rule
@pytest.mark.parametrize(
    "text",
    [
        "plain text, { single } braces",
        "{{item}}",
        "{{ item.answer }} and {{sample.output_text}}",
        "{{ sample.output_json.email }}",
        "{{ sample.output_tools[0].function.name }}",
        "{{ sample.choices[12].message.content }}",
        "{{\titem.nested-key.2024 }}",
        "{{ sample.output_audio.transcript }}",
    ],
)
def test_well_formed_templates(text: str) -> None:
    assert check_templates(text) == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ item.answer", "'{{' at character 1 is never closed"),
        ("{{ items.answer }}", "unknown namespace 'items'"),
        ("{{ sample }}", "'sample' needs a variable"),
        ("{{ sample[0] }}", "'sample' needs a variable"),
        ("{{ sample.output }}", "'output' is not a sample variable"),
        ("{{ item.a b }}", "unexpected 'b' at character 11"),
        ("{{ item.list[x] }}", "index [x] at character 13 is not a whole number"),
        ("{{ item.list[1.5] }}", "index [1.5] at character 13 is not a whole number"),
        ("{{ item. }}", "empty key after '.' at character 8"),
        ("{{ {{ item.a }} }}", "contains another '{'"),
        ("ok }} {{ item.a }}", "'}}' at character 4 closes no '{{'"),
    ],
)
def test_malformed_templates(text: str, message: str) -> None:
    issue, *_ = check_templates(text)
    assert message in issue.message


@pytest.mark.parametrize("text", ["{{ item.list[-1] }}", "{{sample.output_tools[-1].function.arguments.x}}"])
def test_negative_indexes_count_from_the_end(text: str) -> None:
    assert check_templates(text) == ()


def test_formula_names_and_errors() -> None:
    assert [n for n, _ in parse_formula("max(a, b_2) ^ -2 + log(c) / .5e1").names] == ["a", "b_2", "c"]
    for text, position, message in [
        ("a +", 4, "found the end of the formula"),
        ("(a", 3, "expected ')'"),
        ("a)", 2, "')' closes no '('"),
        ("a b", 3, "expected an operator, found 'b'"),
        ("max", 1, "max is a function"),
        ("floor(a, b)", 1, "floor() takes one argument, found 2"),
        ("a & b", 3, "unexpected character '&'"),
        ("(" * 60 + "a" + ")" * 60, 51, "nests parentheses more than 50 deep"),
    ]:
        with pytest.raises(FormulaError) as caught:
            parse_formula(text)
        assert (caught.value.position, message in caught.value.message) == (position, True), text


def test_did_you_mean() -> None:
    assert closest("neq", ["eq", "ne", "like", "ilike"]) == "ne"
    assert closest("rouge-l", ["rouge_1", "rouge_l"]) == "rouge_l"
    assert closest("ROUGE_L", ["rouge_l"]) == "rouge_l"
    assert closest("fuzzy", ["fuzzy_match", "bleu"]) == "fuzzy_match"
    assert closest("temprature", ["temperature", "top_p"]) == "temperature"
    assert closest("zzz", ["eq", "ne"]) is None
    assert closest("c", ["a", "b"]) is None

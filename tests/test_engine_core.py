"""The engine's spine: templates filled from the sample and the item, string_check, multi graders and their
formula, the response's shape, configuration, the `gradergen run` command. Every expected value here is
worked out by hand from the documented semantics (and the README's engine decisions)."""

from __future__ import annotations

import asyncio
import json
import math
import pickle
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from gradergen.engine import EngineConfig, EngineError, GraderInvalid, compile_grader, run_grader
from gradergen.engine.outcome import ERROR_ORDER, as_json
from gradergen.language.formula import FormulaEvaluationError, parse_formula
from gradergen.language.templates import MissingVariable, render, scan

from harness import FIXTURES, gradergen, load_fixture


def check(input_: str, reference: str, operation: str = "eq") -> dict[str, Any]:
    return {
        "type": "string_check",
        "name": "check",
        "input": input_,
        "reference": reference,
        "operation": operation,
    }


# ----------------------------------------------------------------------------- templates
SCOPE = {
    "item": {"label": "yes", "n": 3, "nested": {"list": [1, {"deep": "x"}, 3]}, "none": None, "t": True},
    "sample": {
        "output_text": "hello",
        "output_tools": [{"function": {"name": "lookup", "arguments": '{"city": "Paris", "days": [1, 2]}'}}],
    },
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ item.label }}", "yes"),
        ("{{item.label}}!", "yes!"),
        ("a {{ item.n }} b", "a 3 b"),
        ("{{ item.nested.list[1].deep }}", "x"),
        ("{{ item.nested.list[-1] }}", "3"),
        ("{{ item.nested.list[-3] }}", "1"),
        ("{{ item.nested }}", '{"list":[1,{"deep":"x"},3]}'),
        ("{{ item.none }}", "null"),
        ("{{ item.t }}", "true"),
        ("{{ sample.output_tools[0].function.name }}", "lookup"),
        ("{{ sample.output_tools[0].function.arguments.city }}", "Paris"),
        ("{{ sample.output_tools[0].function.arguments.days[-1] }}", "2"),
        ("no templates }} here", "no templates }} here"),
    ],
)
def test_templates_render_paths_indexes_and_json(text: str, expected: str) -> None:
    assert render(scan(text), SCOPE) == expected


@pytest.mark.parametrize(
    "text",
    ["{{ item.missing }}", "{{ item.nested.list[3] }}", "{{ item.nested.list[-4] }}", "{{ item.label.x }}",
     "{{ item.nested[0] }}", "{{ sample.output_json }}", "{{ sample.choices[0] }}"],
)  # fmt: skip
def test_a_path_to_nothing_is_a_missing_variable(text: str) -> None:
    with pytest.raises(MissingVariable):
        render(scan(text), SCOPE)


def test_a_missing_variable_scores_zero_with_its_flag() -> None:
    response = run_grader(check("{{ item.answer }}", "x"), "x", {"other": 1})
    assert response.reward == 0.0
    assert response.metadata.errors.invalid_variable_error is True
    assert [k for k, v in response.metadata.errors.model_dump().items() if v is True] == [
        "invalid_variable_error"
    ]


def test_output_json_is_the_parsed_sample_and_its_absence_is_a_sample_parse_error() -> None:
    grader = compile_grader(check("{{ sample.output_json.email }}", "{{ item.email }}"))
    good = grader.run('{"email": "a@b.c"}', {"email": "a@b.c"})
    assert (good.reward, good.metadata.errors.sample_parse_error) == (1.0, False)
    bad = grader.run("not json", {"email": "a@b.c"})
    assert (bad.reward, bad.metadata.errors.sample_parse_error) == (0.0, True)


def test_a_sample_may_be_the_whole_namespace() -> None:
    grader = compile_grader(check("{{ sample.output_tools[0].function.arguments.city }}", "Paris"))
    assert grader.run(SCOPE["sample"]).reward == 1.0
    with pytest.raises(TypeError, match="unknown sample variables"):
        grader.run({"output_text": "x", "outputs": []})


# ----------------------------------------------------------------------------- string_check
@pytest.mark.parametrize(
    ("operation", "given", "reference", "reward"),
    [
        ("eq", "Paris", "Paris", 1.0),
        ("eq", "Paris", "paris", 0.0),
        ("eq", "Paris ", "Paris", 0.0),
        ("ne", "Paris", "paris", 1.0),
        ("ne", "Paris", "Paris", 0.0),
        ("like", "The capital is Paris.", "Paris", 1.0),
        ("like", "The capital is paris.", "Paris", 0.0),
        ("like", "Paris", "P%s", 0.0),
        ("ilike", "The capital is PARIS.", "paris", 1.0),
        ("ilike", "Straße", "STRASSE", 1.0),
        ("ilike", "Lyon", "paris", 0.0),
        ("like", "", "", 1.0),
    ],
)
def test_string_check_operations(operation: str, given: str, reference: str, reward: float) -> None:
    response = run_grader(
        check("{{ sample.output_text }}", "{{ item.ref }}", operation), given, {"ref": reference}
    )
    assert response.reward == reward and not any(
        v for k, v in response.metadata.errors.model_dump().items() if isinstance(v, bool)
    )


# ----------------------------------------------------------------------------- formula
@pytest.mark.parametrize(
    ("formula", "values", "expected"),
    [
        ("(a + b) / 2", {"a": 1, "b": 0}, 0.5),
        ("a + b * c", {"a": 1, "b": 2, "c": 3}, 7.0),
        ("a - b - c", {"a": 10, "b": 3, "c": 2}, 5.0),
        ("a / b / c", {"a": 8, "b": 2, "c": 2}, 2.0),
        ("2 ^ 3 ^ 2", {}, 512.0),
        ("-2 ^ 2", {}, -4.0),
        ("(-2) ^ 2", {}, 4.0),
        ("2 ^ -1", {}, 0.5),
        ("--a", {"a": 3}, 3.0),
        ("+a", {"a": 3}, 3.0),
        ("min(a, b, c)", {"a": 3, "b": 1, "c": 2}, 1.0),
        ("max(a)", {"a": 0.25}, 0.25),
        ("abs(a - b)", {"a": 0.25, "b": 1}, 0.75),
        ("floor(2.7) + ceil(2.1)", {}, 5.0),
        ("floor(-2.5)", {}, -3.0),
        ("exp(0) + sqrt(16)", {}, 5.0),
        ("log(exp(2))", {}, 2.0),
        ("1e-1 * 10", {}, 1.0),
        (".5 + a", {"a": 0.5}, 1.0),
        ("0.6 * a + 0.4 * b", {"a": 1, "b": 0.5}, 0.8),
    ],
)
def test_formula_values(formula: str, values: dict[str, float], expected: float) -> None:
    assert math.isclose(parse_formula(formula).evaluate(values), expected, rel_tol=0, abs_tol=1e-12)


@pytest.mark.parametrize(
    "formula",
    ["a / b", "log(b)", "log(0 - a)", "sqrt(0 - a)", "exp(1000)", "(0 - a) ^ 0.5", "b ^ (0 - 1)", "10 ^ 400"],
)
def test_formula_arithmetic_that_fails(formula: str) -> None:
    with pytest.raises(FormulaEvaluationError):
        parse_formula(formula).evaluate({"a": 1.0, "b": 0.0})


def multi(formula: str, **graders: dict[str, Any]) -> dict[str, Any]:
    return {"type": "multi", "name": "combined", "graders": graders, "calculate_output": formula}


def test_a_multi_grader_combines_its_keys_and_reports_sub_rewards() -> None:
    grader = multi(
        "0.75 * name + 0.25 * email",
        name=check("{{ sample.output_json.name }}", "{{ item.name }}"),
        email=check("{{ sample.output_json.email }}", "{{ item.email }}", "ilike"),
    )
    response = run_grader(
        grader, '{"name": "Ada", "email": "ADA@X.ORG"}', {"name": "Ada", "email": "ada@x.org"}
    )
    assert response.reward == 1.0
    assert response.sub_rewards == {"name": 1.0, "email": 1.0}
    half = run_grader(grader, '{"name": "Bob", "email": "ada@x.org"}', {"name": "Ada", "email": "ada@x.org"})
    assert (half.reward, half.sub_rewards) == (0.25, {"name": 0.0, "email": 1.0})


def test_a_failed_sub_grader_scores_zero_in_the_formula_and_its_flag_is_set() -> None:
    grader = multi("(a + b) / 2", a=check("{{ item.x }}", "1"), b=check("{{ item.missing }}", "1"))
    response = run_grader(grader, "s", {"x": "1"})
    assert response.reward == 0.5
    assert response.sub_rewards == {"a": 1.0, "b": 0.0}
    assert response.metadata.errors.invalid_variable_error is True


def test_a_formula_that_cannot_be_computed_sets_formula_parse_error() -> None:
    grader = multi("a / b", a=check("x", "x"), b=check("x", "y"))
    response = run_grader(grader, "s")
    assert (response.reward, response.metadata.errors.formula_parse_error) == (0.0, True)
    assert response.sub_rewards == {"a": 1.0, "b": 0.0}


# ----------------------------------------------------------------------------- the response
def test_the_response_has_the_live_shape_and_order() -> None:
    live = load_fixture("responses/run/002_score_model_live.json")
    response = run_grader(check("{{ sample.output_text }}", "x"), "x")
    data = as_json(response)
    assert list(data) == list(live)
    assert list(data["metadata"]) == list(live["metadata"])
    assert list(data["metadata"]["errors"]) == list(live["metadata"]["errors"]) == list(ERROR_ORDER)
    assert data["metadata"]["name"] == "check" and data["metadata"]["type"] == "string_check"
    assert data["metadata"]["token_usage"] is None and data["metadata"]["sampled_model_name"] is None
    assert data["sub_rewards"] == {} and data["model_grader_token_usage_per_model"] == {}
    assert data["metadata"]["execution_time"] >= 0
    assert type(response).__name__ == "GraderRunResponse"


def test_an_invalid_grader_is_refused_with_located_problems() -> None:
    with pytest.raises(GraderInvalid) as caught:
        compile_grader(check("{{ sample.output_txt }}", "x", "neq"))
    pointers = [p.pointer for p in caught.value.problems if p.severity == "error"]
    assert pointers == ["/input", "/operation"]


def test_a_compiled_grader_is_shared_by_threads_pickled_and_awaited() -> None:
    grader = compile_grader(check("{{ sample.output_text }}", "{{ item.ref }}"))
    results: list[float] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        reward = grader.run(str(i % 3), {"ref": "1"}).reward
        with lock:
            results.append(reward)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(300)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0.0] * 200 + [1.0] * 100
    copy = pickle.loads(pickle.dumps(grader))
    assert copy.run("1", {"ref": "1"}).reward == 1.0
    assert asyncio.run(grader.arun("1", {"ref": "1"})).reward == 1.0


# ----------------------------------------------------------------------------- configuration
def test_configuration_from_a_file_the_environment_and_overrides(tmp_path: Path) -> None:
    file = tmp_path / "gradergen.toml"
    file.write_text(
        '[models]\nbase_url = "http://127.0.0.1:9/v1"\n[models.map]\n"gpt-4o-2024-08-06" = "local"\n'
        "[python]\ntimeout = 5\n",
        encoding="utf-8",
    )
    config = EngineConfig.load(
        file,
        environ={"GRADERGEN_PYTHON_TIMEOUT": "7", "GRADERGEN_CACHE": "off"},
        overrides={"python": {"memory_mb": 512}},
    )
    assert config.models.base_url == "http://127.0.0.1:9/v1"
    assert config.models.model_for("gpt-4o-2024-08-06") == "local" and config.models.model_for("o3") == "o3"
    assert (config.python.timeout, config.python.memory_mb, config.cache.enabled) == (7.0, 512, False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[model]\n", "unknown section [model]"),
        ("[python]\ntimeot = 5\n", "unknown setting 'timeot'"),
        ("[python]\ntimeout = 'soon'\n", "timeout must be a number"),
        ("[python]\ntimeout = 0\n", "timeout must be more than 0"),
        ("[python]\nrequire_isolation = 'best'\n", "require_isolation must be one of"),
        ("[models.map]\nx = 1\n", "must map to a model name"),
        ("[python\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_a_clear_error(text: str, message: str, tmp_path: Path) -> None:
    file = tmp_path / "gradergen.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(EngineError, match=re.escape(message)) as caught:
        EngineConfig.load(file, environ={})
    assert str(file) in str(caught.value)


# ----------------------------------------------------------------------------- gradergen run
GRADER = json.dumps(check("{{ sample.output_text }}", "{{ item.label }}"))


def test_run_prints_the_response_as_json() -> None:
    result = gradergen("run", "--grader", GRADER, "--model-sample", "positive", "--item", "{label: positive}")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["reward"] == 1.0 and list(data) == [
        "reward",
        "metadata",
        "sub_rewards",
        "model_grader_token_usage_per_model",
    ]


def test_run_in_text_shows_reward_flags_sub_rewards_and_isolation(tmp_path: Path) -> None:
    grader = tmp_path / "combined.json"
    grader.write_text(
        json.dumps(multi("(a + b) / 2", a=check("{{ item.x }}", "1"), b=check("{{ item.y }}", "1")))
    )
    item = tmp_path / "item.yaml"
    item.write_text("x: '1'\n")
    result = gradergen(
        "run", "--grader", str(grader), "--model-sample", "s", "--item", f"@{item}", "--format", "text"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "reward: 0.5"
    assert "  invalid_variable_error" in lines
    assert "  a  1" in lines and "  b  0" in lines
    assert "isolation: not needed (no python grader)" in lines


def test_run_refuses_an_invalid_grader_with_the_validators_errors() -> None:
    bad = json.dumps(check("{{ sample.output_txt }}", "x", "neq"))
    result = gradergen("run", "--grader", bad, "--model-sample", "x")
    assert result.returncode == 1 and result.stdout == ""
    assert "--grader:1:" in result.stderr and "did you mean 'output_text'?" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grader", "missing/grader.json", "--model-sample", "x"], "no such file"),
        (["--grader", GRADER, "--model-sample", "@/nonexistent/sample"], "cannot read"),
        (["--grader", GRADER, "--model-sample", "x", "--item", "{a: [1"], "--item: not valid JSON or YAML"),
    ],
)
def test_run_usage_errors_are_one_line(args: list[str], message: str) -> None:
    result = gradergen("run", *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_the_documented_run_requests_run() -> None:
    for path in sorted((FIXTURES / "requests" / "run").glob("*.json")):
        body = json.loads(path.read_text())
        if body["grader"]["type"] != "string_check":
            continue
        response = run_grader(body["grader"], body["model_sample"], body.get("item"))
        assert response.reward in (0.0, 1.0), path.name


def test_grade_many_gives_rewards_at_once_and_each_response_when_read() -> None:
    grader = compile_grader(
        {"type": "text_similarity", "name": "similar", "input": "{{ sample.output_text }}",
         "reference": "{{ item.reference }}", "evaluation_metric": "fuzzy_match"}
    )  # fmt: skip
    samples = ["abcd", "abcd", "xyz", "same"]
    items: list[Any] = [{"reference": "abcd"}, {"reference": "abce"}, {"other": 1}, {"reference": "same"}]
    results = grader.grade_many(samples, items)
    assert results.rewards == [1.0, 0.75, 0.0, 1.0]  # fuzz.ratio: 2*3/8 for one changed letter of four
    assert results.flagged == [2]
    assert results.outcome(2).errors == {"invalid_variable_error": True}
    assert len(results) == 4 and results[1].reward == 0.75
    assert [r.reward for r in results.responses()] == results.rewards
    one_by_one = [grader.run(s, i) for s, i in zip(samples, items, strict=True)]
    for batch, single in zip(results.responses(), one_by_one, strict=True):
        assert batch.metadata.errors == single.metadata.errors and batch.reward == single.reward
    clean = grader.grade_many(["abcd"] * 3, [{"reference": "abcd"}] * 3)  # the whole-column path
    assert clean.rewards == [1.0, 1.0, 1.0] and clean.flagged == []

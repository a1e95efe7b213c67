"""The official Node, Go and Java SDKs, which nobody here wrote, against the graders server.

Each SDK runs the 003 validate example (verbatim but for the client's base URL; see official_sdks.py)
and a checks program that makes the same four calls in every language: a string_check run, a multi
grader validated and run with its graders as a map (each SDK's workaround, since all of them type
`graders` as one grader), and a score_model run, whose answer carries the live response's token-usage
object. A recording proxy between the SDK and the server shows what the server received and answered.

The tests pin each SDK's known misreadings of these endpoints, so that a new SDK version that fixes
one fails here and the README's "What the official SDKs get wrong" is brought up to date.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_openai import FakeOpenAI, score
from graders_server import GradersServer
from harness import json_equal, load_fixture
from official_sdks import (
    API_KEY,
    GO_EXAMPLE,
    JAVA_EXAMPLE,
    NODE_EXAMPLE,
    NODE_PROJECT,
    SdkRuns,
    adapt_go,
    adapt_java,
    adapt_node,
    build_go,
    build_java,
    build_node,
    must,
    node_binary,
    node_modules,
    run_go,
    run_java,
    run_node,
    sdk_env,
)
from recording_proxy import Exchange, RecordingProxy

LANGUAGES = ("node", "go", "java")
VALIDATE = "/v1/fine_tuning/alpha/graders/validate"
RUN = "/v1/fine_tuning/alpha/graders/run"

EXACT = {
    "type": "string_check",
    "name": "exact label",
    "input": "{{sample.output_text}}",
    "operation": "eq",
    "reference": "{{item.label}}",
}
CLOSE = {
    "type": "text_similarity",
    "name": "close label",
    "input": "{{sample.output_text}}",
    "evaluation_metric": "fuzzy_match",
    "reference": "{{item.label}}",
}
MULTI = {
    "type": "multi",
    "name": "label",
    "calculate_output": "0.5 * exact + 0.5 * close",
    "graders": {"exact": EXACT, "close": CLOSE},
}
JUDGE_PROMPT = "Score how close the answer {{sample.output_text}} is to {{item.label}}."
SCORE_MODEL = {
    "type": "score_model",
    "name": "judge",
    "model": "gpt-4o-2024-08-06",
    "input": [{"role": "user", "content": JUDGE_PROMPT}],
}
SAMPLE = {"model_sample": "Paris", "item": {"label": "Paris"}}
# What the fake model answers the judge, in tokens: prompt, completion, cached.
JUDGE_USAGE = (190, 134, 0)


# --------------------------------------------------------------------------- the server and the SDK runs
@pytest.fixture(scope="session")
def fake_model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.always(score(0.75, usage=JUDGE_USAGE))
        yield fake


@pytest.fixture(scope="session")
def upstream(fake_model: FakeOpenAI) -> Iterator[str]:
    """`gradergen serve` without a key (the Go example sends its own placeholder), its model graders
    answered by the fake model, no answer cached."""
    models = {"base_url": fake_model.url, "api_key_env": "GRADERGEN_TESTS_NO_KEY", "max_retries": 0}
    with GradersServer({"models": models}) as server:
        yield server.base


def sdk_runs(language: str, upstream: str, tmp: Path) -> SdkRuns:
    with RecordingProxy(upstream) as proxy:
        base_url = proxy.url + "/v1"
        if language == "node":
            return run_node(build_node(tmp / "node", base_url), proxy)
        if language == "go":
            return run_go(build_go(tmp / "go", base_url), proxy)
        return run_java(build_java(tmp / "java", base_url), proxy)


@pytest.fixture(scope="session")
def runs(upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SdkRuns]]:
    """Each SDK's runs, built and made on first use."""
    made: dict[str, SdkRuns] = {}

    class Lazy(dict[str, SdkRuns]):
        def __missing__(self, language: str) -> SdkRuns:
            made[language] = sdk_runs(language, upstream, tmp_path_factory.mktemp(f"sdk-{language}"))
            self[language] = made[language]
            return made[language]

    yield Lazy()


def reports(runs: dict[str, SdkRuns], language: str) -> dict[str, dict[str, Any]]:
    return runs[language].checks.reports()


def only_exchange(exchanges: list[Exchange]) -> Exchange:
    assert len(exchanges) == 1, [(e.method, e.path) for e in exchanges]
    return exchanges[0]


def values(report: dict[str, Any]) -> dict[str, Any]:
    assert "error" not in report, report["error"]
    result: dict[str, Any] = report["values"]
    return result


def answered(report: dict[str, Any], path: str) -> Any:
    """What the server answered the check's one request, after checking it went where it should."""
    exchange: Exchange = report["exchange"]
    assert (exchange.method, exchange.path) == ("POST", path)
    assert exchange.headers["authorization"] == f"Bearer {API_KEY}"
    assert exchange.status == 200, exchange.answer
    return exchange.answer_json()


# --------------------------------------------------------------------------- the 003 example
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_003_example_validates_through_the_server(runs: dict[str, SdkRuns], language: str) -> None:
    run = runs[language].example
    assert run.returncode == 0, run.describe()
    exchange = only_exchange(run.exchanges)
    assert (exchange.method, exchange.path) == ("POST", VALIDATE)
    key = "My API Key" if language == "go" else API_KEY  # the Go example's own placeholder key
    assert exchange.headers["authorization"] == f"Bearer {key}"
    assert exchange.headers["content-type"].startswith("application/json")
    sent = load_fixture(f"requests/validate/003_{language}.json")
    assert json_equal(exchange.json(), sent)
    assert exchange.status == 200
    assert json_equal(exchange.answer_json(), {"grader": sent["grader"]})
    printed = {
        "node": "{\n  input: 'input',\n  name: 'name',\n  operation: 'eq',\n  reference: 'reference',\n"
        "  type: 'string_check'\n}\n",
        "go": None,  # a struct dump: checked below
        "java": "",  # the example prints nothing
    }[language]
    if language == "go":
        assert "Name:name" in run.stdout and "Type:string_check" in run.stdout, run.stdout
    else:
        assert run.stdout == printed


@pytest.mark.parametrize(
    "source, adapt, changed",
    [
        (NODE_EXAMPLE, adapt_node, 1),
        (GO_EXAMPLE, adapt_go, 4),  # the base URL, two import paths and the seed's broken "\n"
        (JAVA_EXAMPLE, adapt_java, 1),
    ],
    ids=LANGUAGES,
)
def test_the_examples_are_verbatim_but_for_the_client(source: Path, adapt: Any, changed: int) -> None:
    original = source.read_text().splitlines()
    adapted = adapt(source.read_text(), "http://127.0.0.1:1/v1").splitlines()
    removed = [line for line in original if line not in adapted]
    added = [line for line in adapted if line not in original]
    assert len(added) == changed
    assert len(removed) <= changed
    assert all("127.0.0.1:1" in line or "openai-go/v3" in line or "%+v" in line for line in added), added


# --------------------------------------------------------------------------- run: string_check
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_string_check_run(runs: dict[str, SdkRuns], language: str) -> None:
    report = reports(runs, language)["run_string_check"]
    assert json_equal(report["exchange"].json(), {"grader": EXACT, **SAMPLE})
    answer = answered(report, RUN)
    assert answer["reward"] == 1.0  # "Paris" eq "Paris"
    assert answer["metadata"]["sampled_model_name"] is None
    assert answer["metadata"]["errors"]["python_grader_runtime_error_details"] is None
    got = values(report)
    assert got["reward"] == 1.0
    if language == "node":
        assert got["sampled_model_name"] is None and got["runtime_error_details"] is None
        assert got["token_usage"] is None and got["token_usage_typeof"] == "null"
    if language == "go":
        # Go's SDK turns null into "" (and a null token count into 0); only the raw JSON says null.
        assert got["sampled_model_name"] == "" and got["sampled_model_name_raw"] == "null"
        assert got["runtime_error_details"] == "" and got["runtime_error_details_raw"] == "null"
        assert got["token_usage"] == 0
    if language == "java":
        assert got["sampled_model_name"] is None and got["token_usage"] is None
        assert got["validate"] is True


# --------------------------------------------------------------------------- multi: graders as a map
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_multi_grader_map_goes_out_through_the_workaround(runs: dict[str, SdkRuns], language: str) -> None:
    for check in ("validate_multi_map", "run_multi_map"):
        sent = reports(runs, language)[check]["exchange"].json()
        assert json_equal(sent["grader"], MULTI), (check, sent)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_multi_grader_map_validates(runs: dict[str, SdkRuns], language: str) -> None:
    report = reports(runs, language)["validate_multi_map"]
    assert json_equal(answered(report, VALIDATE), {"grader": MULTI})
    got = values(report)
    if language == "node":
        # The map arrives intact at run time; only the types are wrong (test_typescript_pins...).
        assert got["type"] == "multi" and json_equal(got["graders"], MULTI["graders"])
    if language == "go":
        # The union is left empty: no variant's fields are set; only RawJSON() holds the map.
        assert got["type"] == "multi" and got["calculate_output"] == MULTI["calculate_output"]
        assert (got["graders_type"], got["graders_name"], got["graders_input"]) == ("", "", "")
        assert got["graders_as_string_name"] == ""
        assert json_equal(json.loads(got["graders_raw"]), MULTI["graders"])
    if language == "java":
        # Lenient parsing takes the map for one string_check grader; strict validation refuses it.
        assert got["is_multi"] is True and got["variant"] == "multi"
        assert got["graders_is_one_grader"] is True
        refused = "com.openai.errors.OpenAIInvalidDataException: `input` is not set"
        assert got["validate"] == {"threw": refused}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_multi_grader_map_runs(runs: dict[str, SdkRuns], language: str) -> None:
    report = reports(runs, language)["run_multi_map"]
    answer = answered(report, RUN)
    assert answer["reward"] == 1.0  # 0.5 * 1 (eq) + 0.5 * 1 (fuzzy_match of equal texts)
    assert json_equal(answer["sub_rewards"], {"exact": 1.0, "close": 1.0})
    got = values(report)
    assert got["reward"] == 1.0
    assert json_equal(got["sub_rewards"], answer["sub_rewards"])
    if language == "java":
        assert got["validate"] is True


# --------------------------------------------------------------------------- the live-shaped answer
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_score_model_answer_with_a_usage_object(runs: dict[str, SdkRuns], language: str) -> None:
    report = reports(runs, language)["run_score_model"]
    sent = report["exchange"].json()
    expected = SCORE_MODEL
    if language == "java":
        # Java's builders add the optional "type": "message" to every input message.
        expected = {**SCORE_MODEL, "input": [{**SCORE_MODEL["input"][0], "type": "message"}]}
    assert json_equal(sent, {"grader": expected, **SAMPLE})
    answer = answered(report, RUN)
    prompt, completion, cached = JUDGE_USAGE
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cached_tokens": cached,
    }
    assert answer["reward"] == 0.75
    assert json_equal(answer["metadata"]["token_usage"], usage)
    got = values(report)
    if language == "node":
        # Typed `number | null`, received as the object (test_typescript_pins... checks the types).
        assert got["token_usage_typeof"] == "object" and json_equal(got["token_usage"], usage)
        assert got["reward"] == 0.75
    if language == "go":
        # Silently zero: the int64 field cannot hold the object and the call reports no error; only
        # the field's JSON metadata (Valid() false, the raw text) tells.
        assert got["token_usage"] == 0 and got["token_usage_valid"] is False and got["reward"] == 0.75
        assert json_equal(json.loads(got["token_usage_raw"]), usage)
        assert answer["metadata"]["errors"]["model_grader_server_error_details"] is None
        assert got["model_server_error_details"] == ""  # null, read as ""
    if language == "java":
        # The getter throws, and so does strict validation of the whole response.
        assert got["reward"] == 0.75
        assert got["token_usage"]["threw"].startswith("com.openai.errors.OpenAIInvalidDataException: ")
        assert json_equal(got["token_usage_raw"], usage)
        assert got["validate"]["threw"].startswith("com.openai.errors.OpenAIInvalidDataException: ")


# --------------------------------------------------------------------------- the TypeScript types
EXPECT_ERROR = "// @ts-expect-error"


def test_typescript_pins_the_sdk_types_that_disagree_with_the_service(tmp_path: Path) -> None:
    """checks.ts compiles only while each @ts-expect-error line is an error in the SDK's types (tsc
    reports an unused directive as an error); without the directives, tsc names both mismatches."""
    modules = node_modules()
    node = node_binary(modules)
    source = (NODE_PROJECT / "checks.ts").read_text()
    directives = [line.strip() for line in source.splitlines() if line.strip().startswith(EXPECT_ERROR)]
    assert len(directives) == 2, directives
    assert "MultiGrader.graders is typed as one grader" in directives[0]
    assert "token_usage is typed `number | null`" in directives[1]
    (tmp_path / "node_modules").symlink_to(modules, target_is_directory=True)
    (tmp_path / "package.json").write_text('{"private": true, "type": "module"}\n')
    (tmp_path / "tsconfig.json").write_text((NODE_PROJECT / "tsconfig.json").read_text())
    (tmp_path / "checks.ts").write_text(
        "\n".join(line for line in source.splitlines() if not line.strip().startswith(EXPECT_ERROR))
    )
    tsc = [node, str(modules / "typescript" / "bin" / "tsc"), "-p", "tsconfig.json", "--noEmit"]
    result = subprocess.run(tsc, cwd=tmp_path, env=sdk_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    errors = [line for line in result.stdout.splitlines() if ": error TS" in line]
    assert len(errors) == 2, result.stdout
    # graders: { exact, close } is refused as one grader; token_usage as an object is refused as a number.
    assert "TS2353" in errors[0] and "'exact' does not exist in type 'StringCheckGrader |" in errors[0]
    assert "TS2322" in errors[1] and "Type 'number | null' is not assignable" in errors[1], errors[1]
    # And with the directives, as the suite builds it:
    (tmp_path / "checks.ts").write_text(source)
    must(tsc, "tsc with the directives", tmp_path, sdk_env())

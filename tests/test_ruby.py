"""The Ruby gem: generated with `--ruby-module OpenAI` into a temp dir, loaded under `ruby -w`, its RBS
signatures validated and checked against the running code, its minitest suite (tests/ruby/) and the
documented Ruby examples run against the mock API."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gradergen.emit.render import render
from gradergen.generate import load_ir
from gradergen.ir.build import build_ir
from gradergen.ir.model import IR, Enum, Struct, Union
from gradergen.naming.base import apply_naming
from gradergen.naming.names import Names
from gradergen.naming.ruby import TABLE, require_path, ruby_string, ruby_symbol
from gradergen.options import Options

import forward_cases
from conftest import SERVER_API_KEY
from fault_server import FaultServer
from harness import FIXTURES, ROOT, SPEC, gradergen, json_equal, load_fixture, require_tool
from mock_server import MockServer

RUBY_TESTS = ROOT / "tests" / "ruby"
EXAMPLES = RUBY_TESTS / "examples"
DOCUMENTED_CLIENT = 'OpenAI::Client.new(api_key: "My API Key")'
RBS_CLI = ["-rrbs", "-rrbs/cli", "-e", "RBS::CLI.new(stdout: $stdout, stderr: $stderr).run(ARGV)", "--"]

# Each documented example and the request body its documentation implies (tests/fixtures/index.json).
EXAMPLE_BODIES = {
    "001_run.rb": "requests/run/001_ruby.json",
    "001_validate.rb": "requests/validate/001_ruby.json",
    "003_validate.rb": "requests/validate/003_ruby.json",
    "issue_run_item_nil.rb": "requests/run/001_ruby.json",
}


def ruby(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run Ruby; a machine without it fails the test with how to install it."""
    command = [require_tool("ruby"), *args]
    return subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=300
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (
        f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result.stdout


def generate(out: Path, *options: str, spec: Path | None = None) -> Path:
    args = ["generate", "--lang", "ruby", "--out", str(out), "-q", *options]
    result = gradergen(*args, *(["--spec", str(spec)] if spec else []))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def gem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gem as the documented examples expect it: module OpenAI, `require "openai"`."""
    return generate(tmp_path_factory.mktemp("ruby") / "openai", "--ruby-module", "OpenAI")


def suite_env(gem: Path, server: MockServer, faults: FaultServer) -> dict[str, str]:
    return {
        "GRADERS_LIB": str(gem / "lib"),
        "FIXTURES": str(FIXTURES),
        "MOCK_URL": server.url,
        "FAULT_URL": faults.url,
    }


# ----------------------------------------------------------------------------- the generated files
def test_every_file_says_it_is_generated_and_ruby_files_freeze_literals(gem: Path) -> None:
    files = [p for p in gem.rglob("*") if p.is_file() and p.name != ".gradergen-files"]
    assert {p.suffix for p in files} == {".rb", ".rbs", ".gemspec", ".md"}
    for path in files:
        lines = path.read_text().splitlines()
        assert any("DO NOT EDIT" in line for line in lines[:3]), path
        if path.suffix in (".rb", ".gemspec"):
            assert lines[0] == "# frozen_string_literal: true", path
        assert not any(line != line.rstrip() for line in lines), f"{path}: trailing whitespace"


def test_one_file_per_top_level_type_with_nested_types_inside(gem: Path) -> None:
    lib = gem / "lib" / "openai"
    assert (gem / "lib" / "openai.rb").is_file() and (gem / "openai.gemspec").is_file()
    for name in ("string_check_grader", "grader", "grader_run_response", "eval_item", "text_input"):
        assert (lib / f"{name}.rb").is_file() and (gem / "sig" / "openai" / f"{name}.rbs").is_file()
    assert not (lib / "string_check_grader_operation.rb").exists()
    assert "module Operation" in (lib / "string_check_grader.rb").read_text()


def test_loading_under_warnings_prints_nothing(gem: Path) -> None:
    script = RUBY_TESTS / "load_everything.rb"
    result = ruby("-w", str(script), env={"GRADERS_LIB": str(gem / "lib")})
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    syntax = ruby("-wc", str(gem / "openai.gemspec"))
    assert (syntax.returncode, syntax.stderr) == (0, "")


def test_the_gemspec_packages_the_library_and_the_signatures(gem: Path, tmp_path: Path) -> None:
    spec = succeeded(
        ruby(
            "-e",
            'spec = Gem::Specification.load("openai.gemspec"); '
            "puts spec.name, spec.version, spec.required_ruby_version, spec.files.sort",
            cwd=gem,
        )
    ).splitlines()
    expected_files = sorted(
        str(p.relative_to(gem))
        for p in gem.rglob("*")
        if p.suffix in (".rb", ".rbs") or p.name == "README.md"
    )
    assert spec[:3] == ["openai", "1.0.0", ">= 3.1"]
    assert spec[3:] == expected_files
    built = ruby("-S", "gem", "build", "openai.gemspec", "--output", str(tmp_path / "openai.gem"), cwd=gem)
    succeeded(built)
    assert (tmp_path / "openai.gem").stat().st_size > 10_000


def test_rbs_signatures_are_valid(gem: Path) -> None:
    result = ruby(*RBS_CLI, "-I", "sig", "validate", "--silent", cwd=gem)
    succeeded(result)


def test_rbs_signatures_match_what_the_code_takes_and_returns(
    gem: Path, mock_server: MockServer, fault_server: FaultServer
) -> None:
    env = {
        **suite_env(gem, mock_server, fault_server),
        "RBS_TEST_TARGET": "OpenAI::*",
        "RBS_TEST_OPT": f"-I {gem / 'sig'}",
        "RBS_TEST_LOGLEVEL": "error",
        "RBS_TEST_SAMPLE_SIZE": "ALL",
        "RBS_TEST_RAISE": "true",
    }
    result = ruby("-rrbs/test/setup", str(RUBY_TESTS / "rbs_conformance.rb"), env=env)
    assert succeeded(result).strip() == "checked against the signatures"
    assert len(mock_server.requests) >= 7


# ----------------------------------------------------------------------------- minitest suites
@pytest.mark.parametrize("suite", sorted(p.name for p in RUBY_TESTS.glob("*_test.rb")))
def test_minitest_suite(
    suite: str, gem: Path, mock_server: MockServer, fault_server: FaultServer, request: pytest.FixtureRequest
) -> None:
    env = suite_env(gem, mock_server, fault_server)
    if suite == "server_test.rb":  # against the real `gradergen serve`, started only for this one
        server = request.getfixturevalue("graders_server")
        env |= {"SERVER_URL": server.url, "SERVER_API_KEY": SERVER_API_KEY}
    result = ruby("-w", "-I", str(RUBY_TESTS), str(RUBY_TESTS / suite), env=env)
    output = succeeded(result)
    assert re.search(r"\d+ runs, \d+ assertions, 0 failures, 0 errors, 0 skips", output), output
    assert result.stderr == "", "the suite runs under ruby -w without a warning"


def test_every_minitest_file_is_run() -> None:
    assert {p.name for p in RUBY_TESTS.glob("*_test.rb")} == {
        "client_test.rb",
        "faults_test.rb",
        "features_test.rb",
        "fixtures_test.rb",
        "forward_compat_test.rb",
        "models_test.rb",
        "server_test.rb",
    }


# ----------------------------------------------------------------------------- documented examples
@pytest.mark.parametrize("example", sorted(EXAMPLE_BODIES))
def test_documented_example_sends_the_documented_body(
    example: str, gem: Path, mock_server: MockServer, tmp_path: Path
) -> None:
    source = (EXAMPLES / example).read_text()
    assert source.count(DOCUMENTED_CLIENT) == 1, "only the client construction is adapted"
    adapted = tmp_path / example
    adapted.write_text(
        source.replace(DOCUMENTED_CLIENT, DOCUMENTED_CLIENT[:-1] + ', base_url: ENV["MOCK_URL"])')
    )
    result = ruby("-w", "-I", str(gem / "lib"), str(adapted), env={"MOCK_URL": mock_server.url})
    output = succeeded(result)
    assert result.stderr == ""
    (request,) = mock_server.requests
    assert request["headers"]["authorization"] == "Bearer My API Key"
    expected = load_fixture(EXAMPLE_BODIES[example])
    assert json_equal(request["json"], expected), request["body"]
    operation = "run" if "run" in example else "validate"
    assert request["path"] == f"/v1/fine_tuning/alpha/graders/{operation}"
    if operation == "run":
        assert output.startswith(
            "#<OpenAI::GraderRunResponse metadata=#<OpenAI::GraderRunResponse::Metadata "
        )
        assert "reward=0.0" in output and "token_usage=0" in output
    else:
        assert output.strip() == (
            '#<OpenAI::GraderValidateResponse grader=#<OpenAI::StringCheckGrader input="input" name="name" '
            'operation=:eq reference="reference" type=:string_check>>'
        )


def test_the_readme_example_runs(gem: Path, mock_server: MockServer, tmp_path: Path) -> None:
    readme = (gem / "README.md").read_text()
    # the first example, then the one of per-call options and raw responses, which continues it
    (first, options) = re.findall(r"```ruby\n(.*?)```", readme, re.S)
    script = tmp_path / "readme.rb"
    script.write_text(first + options)
    env = {"OPENAI_API_KEY": "sk-readme", "OPENAI_BASE_URL": mock_server.url}
    result = ruby("-w", "-I", str(gem / "lib"), str(script), env=env)
    lines = succeeded(result).splitlines()
    assert result.stderr == ""
    assert lines[0].startswith("#<OpenAI::GraderRunResponse") and lines[1:4] == ["0.0", "true", "true"]
    assert lines[4:7] == ["200", "req_mock_4", "application/json"]
    assert lines[7].startswith("#<OpenAI::StringCheckGrader ")
    requests = mock_server.requests
    assert [r["headers"]["authorization"] for r in requests] == ["Bearer sk-readme"] * 4
    assert requests[2]["path"].endswith("/validate?dry_run=1") and requests[2]["headers"]["x-trace"] == "t-1"
    assert requests[2]["json"]["metadata"] == {"team": "evals"}


# ----------------------------------------------------------------------------- options and naming
def test_the_module_option_names_the_gem_and_its_require_path(tmp_path: Path) -> None:
    out = generate(tmp_path / "acme", "--ruby-module", "Acme::Graders")
    assert (out / "acme-graders.gemspec").is_file() and (out / "lib" / "acme" / "graders.rb").is_file()
    script = (
        'require "acme/graders"; p Acme::Graders::StringCheckGrader::Operation::EQ, Acme::Graders::VERSION'
    )
    result = ruby("-w", "-I", str(out / "lib"), "-e", script)
    assert (result.stdout, result.stderr) == (':eq\n"1.0.0"\n', "")
    succeeded(ruby(*RBS_CLI, "-I", "sig", "validate", "--silent", cwd=out))


def test_the_default_module_is_openai_graders(tmp_path: Path) -> None:
    out = generate(tmp_path / "default")
    assert (out / "openai_graders.gemspec").is_file()
    result = ruby("-w", "-I", str(out / "lib"), "-e", 'require "openai_graders"; p OpenAIGraders::Client')
    assert (result.stdout, result.stderr) == ("OpenAIGraders::Client\n", "")


def test_a_bad_module_name_is_one_clear_line(tmp_path: Path) -> None:
    result = gradergen("generate", "--lang", "ruby", "--ruby-module", "acme::graders", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "gradergen: error: --ruby-module 'acme::graders' is not valid: expected a Ruby constant path, "
        "e.g. Acme::Graders"
    )


def test_require_paths_keep_acronyms_whole() -> None:
    assert require_path("OpenAI") == "openai"
    assert require_path("OpenAIGraders") == "openai_graders"
    assert require_path("Acme::GraderKit") == "acme/grader_kit"


def test_names_follow_the_documented_ruby_sdk() -> None:
    ir = load_ir(SPEC)
    names = apply_naming(ir, TABLE)
    audio = ir.types["ResponseInputAudioInputAudio"]
    assert names(audio) == "InputAudio"
    assert [names(f) for f in audio.fields] == ["data", "format_"]  # `format` would hide Kernel#format
    assert names.type("StringCheckGraderOperation") == "Operation"
    assert [names(v) for v in ir.types["ResponseInputAudioInputAudioFormat"].values] == ["MP3", "WAV"]
    error = ir.types["ErrorObject"]
    assert [names(f) for f in error.fields][-2:] == ["additional_info", "debug_info"]


def test_reserved_words_and_clashing_constants_are_renamed() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    schemas = spec["components"]["schemas"]
    schemas["Client"] = {
        "type": "object",
        "properties": {"class": {"type": "string"}, "end": {"type": "string"}},
    }
    schemas["Hash"] = {"type": "string", "enum": ["END", "1st", "a-b"]}
    ir = _ir_of(spec)
    names = apply_naming(ir, TABLE)
    assert names.type("Client") == "ClientModel"
    assert [names(f) for f in ir.types["Client"].fields] == ["class_", "end_"]
    assert names.type("Hash") == "HashModel"
    assert [names(v) for v in ir.types["Hash"].values] == ["END_", "V1ST", "A_B"]


def test_literals_cannot_break_out_of_strings() -> None:
    assert ruby_string('a "b" #{c} \\ \n\x04') == '"a \\"b\\" \\#{c} \\\\ \\n\\u{4}"'
    assert ruby_symbol("eq") == ":eq"
    assert ruby_symbol("a-b") == ':"a-b"'


HOSTILE = 'Ends """ and */, has \\ and #{ruby} and "quotes",\r=begin\n__END__\x04 and \x1a\nend\r\n=end'


def test_descriptions_cannot_break_ruby_code(tmp_path: Path) -> None:
    spec = yaml.safe_load(SPEC.read_text())
    for schema in spec["components"]["schemas"].values():
        schema["description"] = HOSTILE
        for prop in schema.get("properties", {}).values():
            prop["description"] = HOSTILE
        if "x-enum-descriptions" in schema:
            schema["x-enum-descriptions"] = [HOSTILE] * len(schema["enum"])
    spec["paths"]["/fine_tuning/alpha/graders/run"]["post"]["description"] = HOSTILE
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(yaml.safe_dump(spec))
    out = generate(tmp_path / "out", "--ruby-module", "OpenAI", spec=hostile)
    text = (out / "lib" / "openai" / "string_check_grader.rb").read_text()
    assert "# Ends" in text and "\x04" not in text and "\r" not in text
    result = ruby(
        "-w", "-I", str(out / "lib"), "-e", 'require "openai"; p OpenAI::StringCheckGrader::Operation::EQ'
    )
    assert (result.stdout, result.stderr) == (":eq\n", "")
    succeeded(ruby(*RBS_CLI, "-I", "sig", "validate", "--silent", cwd=out))


def _ir_of(spec: dict[str, Any]) -> IR:
    return build_ir(copy.deepcopy(spec))


# ----------------------------------------------------------------------------- forward compatibility (IR)
def _ruby_constant(names: Names, name: str, module: str) -> str:
    ir = names.ir
    t, path = ir.types[name], []
    while True:
        path.append(names(t))
        if t.owner is None:
            return "::".join([module, *reversed(path)])
        t = ir.types[t.owner]


FORWARD_IR = _ir_of(yaml.safe_load(SPEC.read_text()))
FORWARD_CASES = forward_cases.cases(FORWARD_IR)


def run_forward_cases(lib: Path, ir: IR, cases: list[forward_cases.Case], tmp: Path) -> dict[str, Any]:
    """The cases parsed and written back by tests/ruby/ir_forward_compat.rb against the gem in `lib`
    (generated from `ir`, module OpenAI), in one Ruby run."""
    listed = []
    ruby_names = apply_naming(ir, TABLE)
    for case in cases:
        t = ir.types[case.type]
        names = {"constant": _ruby_constant(ruby_names, case.type, "OpenAI")}
        if isinstance(t, Union):
            names["fallback"] = ruby_names(t, "fallback")
        listed.append(case.as_json(names))
    (tmp / "cases.json").write_text(json.dumps({"require": "openai", "module": "OpenAI", "cases": listed}))
    script = str(RUBY_TESTS / "ir_forward_compat.rb")
    succeeded(ruby("-w", "-I", str(lib), script, str(tmp / "cases.json"), str(tmp / "results.json")))
    results: dict[str, Any] = json.loads((tmp / "results.json").read_text())
    return results


@pytest.fixture(scope="session")
def forward_results(gem: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every case of tests/forward_cases.py, parsed and written back by the gem in one Ruby run."""
    return run_forward_cases(gem / "lib", FORWARD_IR, FORWARD_CASES, tmp_path_factory.mktemp("ruby-forward"))


@pytest.mark.parametrize("case", FORWARD_CASES, ids=lambda c: c.id)
def test_what_a_newer_api_sends_is_kept(case: forward_cases.Case, forward_results: dict[str, Any]) -> None:
    """Every union's fallback, every open enum and every struct's kept properties, case by case."""
    forward_cases.check(FORWARD_IR, case, forward_results.get(case.id), "ruby")


def test_closed_structs_and_enums_follow_the_ir(tmp_path: Path) -> None:
    """The IR's flags, not the spec's defaults: a struct that lists every property leaves another out, a
    closed enum refuses an unlisted value (the spec has neither, so the IR is closed by hand)."""
    ir = forward_cases.closed(load_ir(SPEC))
    files = render("ruby", ir, Options(ruby_module="OpenAI"))
    gem = tmp_path / "closed"
    for path, text in files.items():
        (gem / path).parent.mkdir(parents=True, exist_ok=True)
        (gem / path).write_text(text)
    closed = {t.name for t in ir.of_kind(Struct) if not t.keeps_unknown_fields}
    closed |= {t.name for t in ir.of_kind(Enum) if not t.accepts_unknown}
    cases = [c for c in forward_cases.cases(ir) if c.type in closed]
    assert sorted(c.kind for c in cases) == ["enum", "struct"]
    results = run_forward_cases(gem / "lib", ir, cases, tmp_path)
    for case in cases:
        forward_cases.check(ir, case, results.get(case.id), "ruby")

"""`gradergen validate` and `gradergen schema` from the command line, and the pre-commit hook."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import BIN, ROOT, address_space_limit, gradergen

CORPUS = ROOT / "tests" / "validate_corpus"
INVALID: dict[str, dict[str, str]] = json.loads((CORPUS / "invalid.json").read_text())
HOOKS = ROOT / ".pre-commit-hooks.yaml"
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning): (?P<rest>.*)$")


def validate(
    *args: str, stdin: str | bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    if stdin is None:
        return gradergen("validate", *args, cwd=cwd)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run(
        [str(BIN / "gradergen"), "validate", *args], input=data, capture_output=True, cwd=cwd
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr


# --------------------------------------------------------------------------- output and exit status
def test_text_output_names_file_line_column_pointer_and_hint(tmp_path: Path) -> None:
    text = (
        "{\n"
        '  "type": "multi",\n'
        '  "name": "m",\n'
        '  "calculate_output": "a",\n'
        '  "graders": {"a": {"type": "string_check", "name": "a", "input": "x", "reference": "y",\n'
        '                    "operation": "neq"}}\n'
        "}\n"
    )
    path = tmp_path / "g.json"
    path.write_text(text)
    result = validate(str(path))
    column = text.splitlines()[5].index('"neq"') + 1
    assert result.stdout.splitlines() == [
        f"{path}:6:{column}: error: /graders/a/operation: "
        "'neq' is not one of eq, ne, like, ilike (did you mean 'ne'?)",
        "1 document in 1 file: 1 error, 0 warnings",
    ]
    assert result.returncode == 1
    assert result.stderr == ""


def test_valid_files_exit_0_with_a_summary() -> None:
    result = validate(str(CORPUS / "valid"))
    assert result.returncode == 0, result.stdout
    files = [p for p in (CORPUS / "valid").iterdir()]
    assert result.stdout.strip().endswith(f"in {len(files)} files: all valid")
    assert validate("-q", str(CORPUS / "valid")).stdout == ""


def test_warnings_exit_0_and_fail_under_strict() -> None:
    path = str(CORPUS / "warnings" / "pass_threshold.json")
    relaxed, strict = validate(path), validate("--strict", path)
    assert relaxed.returncode == 0 and ": warning: /pass_threshold: unknown property" in relaxed.stdout
    assert strict.returncode == 1 and ": error: /pass_threshold: unknown property" in strict.stdout


def test_python_warns_on_stdout_as_a_problem_never_on_stderr() -> None:
    """A source Python reads with a SyntaxWarning used to print "<unknown>:2: SyntaxWarning" on stderr
    (found by bench/soak_validate.py)."""
    result = validate("-q", str(CORPUS / "warnings" / "python_syntax_warning.json"))
    assert (result.returncode, result.stderr) == (0, "")
    assert ": warning: /source: source line 2: invalid decimal literal" in result.stdout


def test_every_invalid_document_exits_1_and_each_line_is_located() -> None:
    result = validate(str(CORPUS / "invalid"))
    assert result.returncode == 1
    assert_no_traceback(result)
    found: dict[str, set[str]] = {}
    for line in result.stdout.splitlines()[:-1]:
        m = LINE.match(line)
        assert m, f"not a located problem: {line!r}"
        found.setdefault(Path(m["file"]).name, set()).add(
            m["rest"].split(": ", 1)[0] if m["rest"].startswith("/") else ""
        )
    for name, expected in INVALID.items():
        assert expected["pointer"] in found.get(name, set()), (name, found.get(name))


def test_json_format(tmp_path: Path) -> None:
    result = validate(
        "--format", "json", str(CORPUS / "invalid" / "operation_neq.json"), str(CORPUS / "valid")
    )
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report["valid"] is False
    (problem,) = report["problems"]
    assert problem == {
        "file": str(CORPUS / "invalid" / "operation_neq.json"),
        "severity": "error",
        "pointer": "/operation",
        "message": "'neq' is not one of eq, ne, like, ilike",
        "hint": "did you mean 'ne'?",
        "code": "schema.enum",
        "line": 6,
        "column": 16,
    }
    assert report["summary"]["errors"] == 1 and report["summary"]["unreadable"] == 0
    assert report["summary"]["files"] == 1 + len(list((CORPUS / "valid").iterdir()))


def test_stdin_and_the_documented_grader_flag() -> None:
    piped = validate("-", stdin=(CORPUS / "invalid" / "metric_rouge_dash.json").read_text())
    assert (
        piped.returncode == 1
        and piped.stdout.startswith("<stdin>:")
        and "did you mean 'rouge_l'?" in piped.stdout
    )
    documented = "{input: input, name: name, operation: eq, reference: reference, type: string_check}"
    assert validate("--grader", documented).returncode == 0
    broken = validate("--grader", '{"type": "python", "name": "p", "source": "def grade(x): pass"}')
    assert broken.returncode == 1
    assert broken.stdout.startswith("--grader:1:") and "/source: grade must take exactly two" in broken.stdout
    jsonl = validate("-", "--input-format", "jsonl", stdin='{"type": "python"}\n{"grader": 1}\n')
    assert [line.split(":")[1] for line in jsonl.stdout.splitlines()[:-1]] == ["1", "1", "2"]


def test_usage_errors_exit_2() -> None:
    nothing = validate()
    assert nothing.returncode == 2 and "give files" in nothing.stderr
    assert validate("--format", "xml", "x.json").returncode == 2
    missing = validate("no/such/file.json")
    assert missing.returncode == 2 and "no/such/file.json: error: cannot read: no such file" in missing.stdout


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "malformed.json",
            b'{\n  "type": "python",\n  "name": "x",\n}\n',
            "malformed.json:4:1: error: not valid JSON",
        ),
        ("malformed.yaml", b"type: python\nsource: [def\n", "malformed.yaml:3:1: error: not valid YAML"),
        ("tabs.yaml", b"type: python\n\tname: x\n", "tabs.yaml:2:1: error: not valid YAML"),
        (
            "binary.json",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "binary.json:3:1: error: binary data: a NUL byte",
        ),
        ("latin1.json", b'{"name": "caf\xe9"}', "latin1.json:1:14: error: not UTF-8 text: byte 0xe9"),
        ("empty.json", b"", "empty.json: error: empty"),
        ("blank.yaml", b"\n   \n# only a comment\n", "blank.yaml: error: empty"),
        (
            "array.json",
            b"[]",
            "array.json:1:1: error: expected an object (a grader or a request body), found an array",
        ),
        (
            "number.yaml",
            b"42\n",
            "number.yaml:1:1: error: expected an object (a grader or a request body), found an integer",
        ),
        ("deep.json", b"[" * 10_000 + b"]" * 10_000, "deep.json:1:10000: error: nesting is too deep to read"),
        ("deep.yaml", b"a: " + b"[" * 10_000 + b"]" * 10_000, "deep.yaml:1:"),
        (
            "alias.yaml",
            b"a: &a [*a]\n",
            "alias.yaml:1:4: error: a YAML alias refers to a value that contains it",
        ),
        ("lines.jsonl", b'{"type": "python"}\n[\n', "lines.jsonl:2:2: error: not valid JSON"),
        (
            "long.json",
            b'{"seed": ' + b"9" * 5000 + b"}",
            "long.json:1:10: error: a number of 5,000 digits is longer than can be read",
        ),
    ],
)
def test_unreadable_input_is_a_located_error_exit_2(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    (tmp_path / name).write_bytes(content)
    result = validate(name, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert_no_traceback(result)
    assert any(line.startswith(expected) for line in result.stdout.splitlines()), result.stdout


def test_a_100_mb_file_is_refused_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.write(b'{"type": "python", "name": "')
        chunk = b"a" * (1 << 20)
        for _ in range(100):
            f.write(chunk)
        f.write(b'"}')
    result = validate(str(path))
    assert result.returncode == 2
    assert_no_traceback(result)
    assert f"{path}: error: 104.9 MB is too large for a grader file (the limit is 16 MiB)" in result.stdout
    assert (
        validate("--max-size", "200", str(path)).returncode == 1
    )  # read when allowed: a python grader without source


def test_a_billion_laughs_yaml_is_refused(tmp_path: Path) -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    (tmp_path / "laughs.yaml").write_text("\n".join(rows) + "\n")
    result = validate("laughs.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "YAML aliases expand to more than 1,000,000 values" in result.stdout


def test_directories_are_walked_for_grader_files(tmp_path: Path) -> None:
    (tmp_path / "graders" / "nested").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    good = (CORPUS / "valid" / "python.json").read_text()
    (tmp_path / "graders" / "a.json").write_text(good)
    (tmp_path / "graders" / "nested" / "b.yml").write_text(
        "{type: python, name: b, source: 'def grade(s, i): pass'}"
    )
    (tmp_path / "graders" / "notes.txt").write_text("not a grader")
    (tmp_path / ".git" / "c.json").write_text("[]")
    result = validate(str(tmp_path))
    assert result.returncode == 0 and result.stdout.strip() == "2 documents in 2 files: all valid"


def test_parallel_and_serial_runs_report_the_same(tmp_path: Path) -> None:
    good = json.loads((CORPUS / "valid" / "multi_every_function.json").read_text())
    rows = []
    for i in range(6000):
        doc = json.loads(json.dumps(good))
        if i % 997 == 0:
            doc["graders"]["exact"]["operation"] = "neq"
        if i % 1499 == 0:
            rows.append("{broken")
        rows.append(json.dumps(doc))
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(rows) + "\n")
    serial, parallel = validate("-j", "1", str(path)), validate("-j", "2", str(path))
    assert (serial.returncode, parallel.returncode) == (2, 2)
    assert serial.stdout == parallel.stdout
    assert serial.stdout.count("'neq' is not one of") == 7 and serial.stdout.count("not valid JSON") == 5


def test_an_internal_error_is_one_line(tmp_path: Path) -> None:
    """Should a check ever fail, the user gets one line and status 70, not a traceback."""
    script = (
        "import sys\n"
        "from gradergen.validation import check\n"
        "check.Validator.check = lambda self, doc: 1 / 0\n"
        "from gradergen.cli import main\n"
        "sys.exit(main(['validate', sys.argv[1]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(CORPUS / "valid" / "python.json")], capture_output=True, text=True
    )
    assert result.returncode == 70
    assert "internal error: ZeroDivisionError" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- what is read, and how much
HANG = 60
"""Seconds after which a run that should have ended at once counts as hung."""


def run_cli(*args: str, stdin: object = None, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """The CLI as a process, failing the test (instead of blocking the suite) should it hang."""
    try:
        return subprocess.run(
            [str(BIN / "gradergen"), "validate", *args],
            stdin=stdin,  # type: ignore[arg-type]
            capture_output=True,
            text=True,
            timeout=HANG,
            **kwargs,  # type: ignore[arg-type]
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"gradergen validate {' '.join(args)} hung for {HANG} s")


NOT_REGULAR = "error: not a regular file: this is"


def test_a_fifo_without_a_writer_is_refused_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.json")
    (tmp_path / "graders").mkdir()
    (tmp_path / "graders" / "ok.json").write_text((CORPUS / "valid" / "python.json").read_text())
    os.mkfifo(tmp_path / "graders" / "pipe.yaml")
    named = run_cli("pipe.json", cwd=tmp_path)
    assert named.returncode == 2
    assert named.stdout.splitlines()[0].startswith(f"pipe.json: {NOT_REGULAR} a named pipe (FIFO)")
    inside = run_cli("graders", cwd=tmp_path)
    assert inside.returncode == 2
    assert inside.stdout.splitlines() == [
        f"graders/pipe.yaml: {NOT_REGULAR} a named pipe (FIFO) (only regular files are read; to check a "
        "stream, pipe it in: … | gradergen validate -)",
        "1 document in 2 files: 1 error, 0 warnings",
    ]


@pytest.mark.parametrize("jobs", ["1", "0"])
def test_a_device_is_refused_unread(jobs: str) -> None:
    """/dev/zero used to be read until memory ran out (6 GB, then "internal error: MemoryError"),
    or with -j 1 forever."""
    result = run_cli("--input-format", "jsonl", "-j", jobs, "/dev/zero")
    assert result.returncode == 2
    assert result.stdout.startswith(f"/dev/zero: {NOT_REGULAR} a character device")
    assert_no_traceback(result)


@pytest.mark.parametrize("args", [["--input-format", "jsonl"], ["--input-format", "jsonl", "-j", "1"], []])
def test_an_endless_standard_input_stops_at_the_limit(args: list[str]) -> None:
    with open("/dev/zero", "rb") as zeros:
        result = run_cli("--max-size", "1", *args, "-", stdin=zeros)
    assert result.returncode == 2
    problem, summary = result.stdout.splitlines()
    documents = "1 document" if args else "0 documents"  # a JSONL line is a document, read or not
    assert summary == f"{documents} in 1 file: 1 error, 0 warnings"
    if args:
        assert problem == (
            "<stdin>:1:1: error: over 1 MiB is too large for a grader file (the limit is 1 MiB); reading "
            "stops here, the rest is not checked (raise it with --max-size if this really is a grader)"
        )
    else:
        assert problem.startswith("<stdin>: error: over 1 MiB is too large for a grader file")
    assert_no_traceback(result)


def _without_permission_checks() -> list[str]:
    """A prefix that runs a command without the capabilities that let root read any directory."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("setpriv is not installed: apt-get install -y util-linux", pytrace=False)
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", "--"]


def test_an_unreadable_directory_is_an_error_not_an_empty_one(tmp_path: Path) -> None:
    """A directory of mode 000 used to be "0 documents in 0 files: all valid", exit 0."""
    good = (CORPUS / "valid" / "python.json").read_text()
    (tmp_path / "graders" / "shut").mkdir(parents=True)
    (tmp_path / "graders" / "a.json").write_text(good)
    (tmp_path / "graders" / "shut" / "b.json").write_text(good)
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "c.json").write_text(good)
    (tmp_path / "graders" / "shut").chmod(0)
    (tmp_path / "top").chmod(0)
    try:
        command = [*_without_permission_checks(), str(BIN / "gradergen"), "validate"]
        nested = subprocess.run(
            [*command, "graders"], cwd=tmp_path, capture_output=True, text=True, timeout=HANG
        )
        top = subprocess.run([*command, "top"], cwd=tmp_path, capture_output=True, text=True, timeout=HANG)
    finally:
        (tmp_path / "graders" / "shut").chmod(0o755)
        (tmp_path / "top").chmod(0o755)
    assert (nested.returncode, top.returncode) == (2, 2), nested.stdout + top.stdout
    assert nested.stdout.splitlines() == [
        "graders/shut: error: cannot read directory: permission denied",
        "1 document in 2 files: 1 error, 0 warnings",
    ]
    assert top.stdout.splitlines()[0] == "top: error: cannot read directory: permission denied"


def _sparse_jsonl(path: Path, hole: int) -> None:
    """A good line, a line of `hole` NUL bytes (a sparse file: no disk used), a broken line with a
    repeated key, and a good line."""
    good = (CORPUS / "valid" / "python.json").read_text().replace("\n", " ").encode()
    with path.open("wb") as f:
        f.write(good + b"\n")
        f.seek(hole, os.SEEK_CUR)
        f.write(b'\n{"type": "python", "name": "n", "type": "python"}\n' + good + b"\n")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_giant_line_is_skipped_in_bounded_memory(tmp_path: Path, jobs: str) -> None:
    """A 1 GiB line is reported and skipped by a process that may not map more than 512 MiB: no
    line is held beyond the per-document limit (reading the file whole died with MemoryError)."""
    path = tmp_path / "giant.jsonl"
    _sparse_jsonl(path, 2**30)
    result = run_cli("-j", jobs, str(path), preexec_fn=address_space_limit(512))
    assert_no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    rows = [row.split(": ", 2) for row in result.stdout.splitlines()]
    assert [row[0].removeprefix(str(path)) for row in rows[:-1]] == [":2:1", ":3:1", ":3:33"]
    assert rows[0][2].startswith("1073.7 MB is too large for a grader file (the limit is 16 MiB)")
    assert rows[1][2] == "missing required property 'source' (add \"source\": a string)"
    assert rows[2][2].startswith("/type: duplicate key 'type' (first written at line 3, column 2)")
    assert result.stdout.splitlines()[-1] == "4 documents in 1 file: 3 errors, 0 warnings"


def test_a_file_checked_in_parts_reports_what_it_reports_whole(tmp_path: Path) -> None:
    """Each worker reads its own byte range: lines cut by a range's edge, line numbers carried across
    ranges, and over-long lines spanning several ranges come out as in one serial pass."""
    good = json.dumps(json.loads((CORPUS / "valid" / "multi_every_function.json").read_text()))
    rows = []
    for i in range(5000):
        if i % 1009 == 0:
            rows.append('{"type": "python", "name": "a", "name": "b", "source": "def grade(s, i): pass"}')
        if i % 1777 == 0:
            rows.append("x" * (1 << 20) + "x")  # over the 1 MiB limit below
        rows.append(good if i % 997 else good.replace('"eq"', '"neq"'))
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(rows) + "\n")
    assert path.stat().st_size > 8 * 2**20  # several MiB: split among the workers
    serial = run_cli("--max-size", "1", "-j", "1", str(path))
    parallel = run_cli("--max-size", "1", "-j", "2", str(path))
    assert (serial.returncode, parallel.returncode) == (2, 2)
    assert serial.stdout == parallel.stdout
    assert serial.stdout.count("duplicate key 'name'") == 5
    assert serial.stdout.count("is too large") == 3
    assert serial.stdout.count("'neq' is not one of") == 6
    last = len(rows)
    assert f"{path}:{last - 1}:" not in serial.stdout and serial.stdout.endswith(
        f"{last} documents in 1 file: 14 errors, 0 warnings\n"
    )


# --------------------------------------------------------------------------- schema
def test_schema_command_prints_the_generated_schema(tmp_path: Path) -> None:
    printed = gradergen("schema")
    assert printed.returncode == 0
    assert printed.stdout == (ROOT / "generated" / "jsonschema" / "grader.schema.json").read_text()
    assert gradergen("schema", "--strict", "-o", str(tmp_path / "strict.json")).returncode == 0
    strict = json.loads((tmp_path / "strict.json").read_text())
    assert strict["$defs"]["TextSimilarityGrader"]["additionalProperties"] is False


def test_generate_writes_the_schema(tmp_path: Path) -> None:
    result = gradergen("generate", "--lang", "jsonschema", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "grader.schema.json").read_text() == gradergen("schema").stdout


# --------------------------------------------------------------------------- pre-commit
def test_the_pre_commit_hook_runs_gradergen_validate_on_grader_files(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert hook["id"] == "gradergen-validate" and hook["language"] == "python"
    selects = re.compile(hook["files"])
    chosen = ["graders/a.json", "svc/grader/b.yaml", "x.grader.jsonl", "graders/c.yml"]
    ignored = ["package.json", "src/app.yaml", "graders/readme.md"]
    assert all(selects.search(p) for p in chosen) and not any(selects.search(p) for p in ignored)
    (tmp_path / "graders").mkdir()
    (tmp_path / "graders" / "ok.json").write_text((CORPUS / "valid" / "python.json").read_text())
    (tmp_path / "graders" / "bad.yaml").write_text(
        "type: string_check\nname: n\ninput: x\nreference: y\noperation: neq\n"
    )
    # pre-commit runs `entry` with the hook's args and the staged files that match `files`
    command = shlex.split(hook["entry"])
    assert command[0] == "gradergen"
    staged = ["graders/ok.json", "graders/bad.yaml"]
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:], *hook.get("args", []), *staged],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "graders/bad.yaml:5:12: error: /operation: "
        "'neq' is not one of eq, ne, like, ilike (did you mean 'ne'?)"
    )

"""`gradergen grade`: every input format, rows that keep their places, resume after kill -9, flat
memory on multi-GB input, the summary, the HTML report in a real headless Chromium, compare, dry-run
and the concurrency limit for model graders.

Expected values are derived by hand from the rows each test writes (which sample equals its answer),
never taken from an earlier run of the code under test; the one exception, by design, is "a stopped
and continued run writes the file an uninterrupted run writes", which compares two runs."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gradergen.cli import main
from gradergen.engine.outcome import Outcome
from gradergen.grading import read_rows, result_row, summarise, write_results
from gradergen.grading.report import BAR_COLOUR, NEW_COLOUR
from gradergen.grading.results import PlainLines, dumps, response_data

from fake_openai import FakeOpenAI, score
from harness import address_space_limit, require_tool, run_measuring_peak_memory

ROOT = Path(__file__).resolve().parents[1]
GRADERGEN = [sys.executable, "-m", "gradergen"]
KEY_VARIABLE = "GRADERGEN_TEST_MODEL_KEY"

EXACT = {
    "type": "string_check",
    "name": "exact",
    "input": "{{ sample.output_text }}",
    "reference": "{{ item.answer }}",
    "operation": "eq",
}
LOOSE = {**EXACT, "name": "loose", "operation": "ilike"}
MULTI = {
    "type": "multi",
    "name": "combo",
    "graders": {
        "exact": EXACT,
        "loose": LOOSE,
    },
    "calculate_output": "0.25 * exact + 0.75 * loose",
}


# ----------------------------------------------------------------------------- helpers
def grade(*args: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`gradergen grade ARGS` in this process: exit status, standard output, standard error."""
    code = main(["grade", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def grader_file(tmp_path: Path, grader: dict[str, Any], name: str = "grader.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(grader))
    return path


def cases(count: int) -> list[dict[str, Any]]:
    """Rows whose sample equals the answer when i % 4 == 0, equals it but for case when i % 4 == 1, and
    differs otherwise: exact gives 1 to the first kind, loose (ilike) to the first two."""
    rows = []
    for i in range(count):
        answer = f"Answer {i % 7}"
        sample = answer if i % 4 == 0 else answer.upper() if i % 4 == 1 else f"wrong {i}"
        rows.append({"id": f"q{i}", "answer": answer, "model_sample": sample})
    return rows


def exact_reward(i: int) -> float:
    return 1.0 if i % 4 == 0 else 0.0


def loose_reward(i: int) -> float:
    return 1.0 if i % 4 in (0, 1) else 0.0


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text


# ----------------------------------------------------------------------------- formats and row shape
def _write_format(path: Path, fmt: str, rows: list[dict[str, Any]]) -> None:
    if fmt == "jsonl":
        write_jsonl(path, rows)
    elif fmt == "json":
        path.write_text(json.dumps(rows, indent=1))
    elif fmt == "csv":
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["id", "answer", "model_sample"])
            writer.writeheader()
            writer.writerows(rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=97)


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_every_format_grades_every_row_in_order(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / f"rows.{fmt}"
    _write_format(data, fmt, cases(1500))
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = grade(
        "--grader",
        grader_file(tmp_path, EXACT),
        "--data",
        data,
        "--out",
        out,
        "--id-field",
        "id",
        capsys=capsys,
    )
    assert code == 0, stderr
    rows = results(out)
    assert [r["index"] for r in rows] == list(range(1500))
    assert [r["id"] for r in rows] == [f"q{i}" for i in range(1500)]
    assert [r["reward"] for r in rows] == [exact_reward(i) for i in range(1500)]
    assert all(r["response"]["reward"] == r["reward"] for r in rows)
    assert "1,500 rows: 1,500 graded" in stdout
    assert "mean 0.25" in stdout  # 375 of 1500 rows match exactly


def test_a_result_row_holds_the_full_response_and_a_bad_row_keeps_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [json.dumps(r) for r in cases(4)]
    lines.insert(2, "{not json")
    lines.insert(4, json.dumps(["a", "list"]))
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    code, stdout, _ = grade(
        "--grader", grader_file(tmp_path, EXACT), "--data", data, "--out", out, "--id-field", "id",
        capsys=capsys,
    )  # fmt: skip
    assert code == 3, "rows that could not be graded make the exit status 3"
    rows = results(out)
    assert [r["index"] for r in rows] == [0, 1, 2, 3, 4, 5]
    first = rows[0]
    assert list(first) == ["index", "id", "reward", "response"]
    assert first["id"] == "q0" and first["reward"] == 1.0
    response = first["response"]
    assert list(response) == ["reward", "metadata", "sub_rewards", "model_grader_token_usage_per_model"]
    assert response["metadata"]["name"] == "exact" and response["metadata"]["type"] == "string_check"
    assert response["metadata"]["execution_time"] == 0.0
    assert not any(v is True for v in response["metadata"]["errors"].values())
    assert rows[2] == {
        "index": 2,
        "id": None,
        "reward": None,
        "response": None,
        "error": f"{data}:3: not valid JSON: Expecting property name enclosed in double quotes at column 2",
    }
    assert rows[4]["error"] == f"{data}:5: a row is an object of fields, not a list"
    assert [r["id"] for r in rows] == ["q0", "q1", None, "q2", None, "q3"]
    assert "6 rows: 4 graded, 2 could not be graded" in stdout


def test_a_grader_that_fails_on_a_row_writes_the_row_with_its_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grader = {**EXACT, "reference": "{{ item.expected }}"}
    rows = [
        {"expected": "a", "model_sample": "a"},
        {"model_sample": "a"},
        {"expected": "b", "model_sample": "a"},
    ]
    out = tmp_path / "out.jsonl"
    code, stdout, _ = grade(
        "--grader", grader_file(tmp_path, grader), "--data", write_jsonl(tmp_path / "r.jsonl", rows),
        "--out", out, capsys=capsys,
    )  # fmt: skip
    assert code == 0, "a flagged row is a graded row"
    written = results(out)
    assert [r["reward"] for r in written] == [1.0, 0.0, 0.0]
    assert written[1]["response"]["metadata"]["errors"]["invalid_variable_error"] is True
    assert written[2]["response"]["metadata"]["errors"]["invalid_variable_error"] is False
    assert "error flags (1 rows set one or more):" in stdout
    assert "invalid_variable_error  1" in stdout


def test_the_summary_gives_quantiles_histogram_and_sub_grader_means(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 400 rows: 100 of each kind; combo = 0.25*exact + 0.75*loose is 1, 0.75, 0, 0 for the four kinds.
    data = write_jsonl(tmp_path / "rows.jsonl", cases(400))
    code, stdout, stderr = grade(
        "--grader", grader_file(tmp_path, MULTI), "--data", data, "--out", tmp_path / "o.jsonl", capsys=capsys
    )
    assert code == 0, stderr
    # Sorted: 200 zeros, 100 of 0.75, 100 ones; the median falls between rows 199 and 200: (0 + 0.75) / 2.
    assert "reward: mean 0.4375 · median 0.375 · p10 0 · p90 1 · min 0 · max 1" in stdout
    lines = stdout.splitlines()
    bins = [line for line in lines if line.startswith("  [")]
    assert len(bins) == 10
    assert bins[0].split()[-1] == "200" and bins[7].split()[-1] == "100" and bins[9].split()[-1] == "100"
    assert "  exact  0.25" in lines and "  loose  0.5" in lines
    assert "error flags: none" in stdout


def test_the_plain_row_template_writes_what_the_general_path_writes() -> None:
    plain = PlainLines("exact", "string_check")
    for index, row_id, reward in [(0, None, 1.0), (17, "q-17", 0.0), (3, 42, 0.3333333333333333)]:
        response = response_data(Outcome(reward=reward).response("exact", "string_check", 0.0), False)
        assert plain.line(index, dumps(row_id), reward) == dumps(result_row(index, row_id, response))


# ----------------------------------------------------------------------------- samples and fields
def test_samples_from_a_second_file_pair_by_line_or_by_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = cases(40)
    items = write_jsonl(tmp_path / "items.jsonl", [{"id": r["id"], "answer": r["answer"]} for r in rows])
    by_line = write_jsonl(tmp_path / "by_line.jsonl", [{"output_text": r["model_sample"]} for r in rows[:39]])
    shuffled = [{"id": r["id"], "output_text": r["model_sample"]} for r in rows]
    random.Random(7).shuffle(shuffled)
    by_id = write_jsonl(tmp_path / "by_id.jsonl", shuffled)
    grader = grader_file(tmp_path, EXACT)

    out = tmp_path / "paired_by_id.jsonl"
    code, _, stderr = grade(
        "--grader", grader, "--data", items, "--samples", by_id, "--id-field", "id",
        "--sample-field", "output_text", "--out", out, capsys=capsys,
    )  # fmt: skip
    assert code == 0, stderr
    assert [r["reward"] for r in results(out)] == [exact_reward(i) for i in range(40)]

    out = tmp_path / "paired_by_line.jsonl"
    code, _, _ = grade(
        "--grader", grader, "--data", items, "--samples", by_line, "--sample-field", "output_text",
        "--out", out, capsys=capsys,
    )  # fmt: skip
    assert code == 3
    written = results(out)
    assert [r["reward"] for r in written[:39]] == [exact_reward(i) for i in range(39)]
    assert written[39]["error"] == f"{items}:40: no sample: {by_line} ended after 39 rows"


def test_a_misnamed_sample_field_stops_before_grading_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "rows.jsonl", cases(3))
    code, _, stderr = grade(
        "--grader", grader_file(tmp_path, EXACT), "--data", data, "--out", tmp_path / "o.jsonl",
        "--sample-field", "output", capsys=capsys,
    )  # fmt: skip
    assert code == 2
    assert (
        f"{data}:1: no field 'output' (fields: id, answer, model_sample); --sample-field names it" in stderr
    )
    assert_no_traceback(stderr)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--data", "{tmp}/missing.jsonl", "--out", "{tmp}/o.jsonl"], "{tmp}/missing.jsonl: no such file"),
        (["--data", "{tmp}/rows.txt", "--out", "{tmp}/o.jsonl"], "cannot tell the format from '.txt'"),
        (["--data", "{tmp}/rows.jsonl"], "--out FILE is needed"),
        (["--data", "{tmp}/rows.jsonl", "--out", "{tmp}/o.jsonl", "--max-concurrency", "0"],
         "--max-concurrency must be at least 1, not 0"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named_without_a_traceback(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_jsonl(tmp_path / "rows.jsonl", cases(2))
    (tmp_path / "rows.txt").write_text("x\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    code, _, stderr = grade("--grader", grader_file(tmp_path, EXACT), *args, capsys=capsys)
    assert code == 2
    assert message.replace("{tmp}", str(tmp_path)) in stderr
    assert_no_traceback(stderr)


def test_an_invalid_grader_is_refused_with_its_located_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = grader_file(tmp_path, {**EXACT, "operation": "equals"})
    code, _, stderr = grade(
        "--grader", bad, "--data", write_jsonl(tmp_path / "r.jsonl", cases(2)), "--out", tmp_path / "o.jsonl",
        capsys=capsys,
    )  # fmt: skip
    assert code == 1
    assert "operation" in stderr and "equals" in stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_an_existing_results_file_is_not_overwritten_unasked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text("precious\n")
    code, _, stderr = grade(
        "--grader", grader_file(tmp_path, EXACT), "--data", write_jsonl(tmp_path / "r.jsonl", cases(2)),
        "--out", out, capsys=capsys,
    )  # fmt: skip
    assert code == 2
    assert "--resume to continue that run, --overwrite to grade again" in stderr
    assert out.read_text() == "precious\n"


# ----------------------------------------------------------------------------- resume
def _cli(*args: str | Path, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*GRADERGEN, "grade", "-q", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=kwargs.pop("cwd", None),
        env={**os.environ, **kwargs.pop("env", {})},
        **kwargs,
    )


def _kill_and_resume(args: list[str | Path], out: Path, kills: list[float]) -> list[int]:
    """Start the run, SIGKILL it after each delay in `kills` (continuing with --resume each time), then
    let a last --resume finish; the rows found in the file after each kill."""
    seen = []
    for number, delay in enumerate(kills):
        process = _cli(*args, *(["--resume"] if number else []))
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        seen.append(out.read_bytes().count(b"\n") if out.exists() else 0)
    process = _cli(*args, "--resume")
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr.decode()
    return seen


def test_a_run_killed_at_random_moments_and_resumed_writes_the_uninterrupted_file(tmp_path: Path) -> None:
    count = 30_000
    data = write_jsonl(tmp_path / "rows.jsonl", cases(count))
    grader = grader_file(tmp_path, MULTI)
    whole = tmp_path / "whole.jsonl"
    started = time.monotonic()
    finished = _cli("--grader", grader, "--data", data, "--id-field", "id", "--out", whole)
    _, stderr = finished.communicate(timeout=600)
    assert finished.returncode == 0, stderr.decode()
    took = time.monotonic() - started

    out = tmp_path / "stopped.jsonl"
    rng = random.Random()
    kills = [rng.uniform(0.3 * took, 0.7 * took) for _ in range(4)]  # past start-up, before the end
    seen = _kill_and_resume(
        ["--grader", grader, "--data", data, "--id-field", "id", "--out", out], out, kills
    )
    assert any(0 < n < count for n in seen), f"no kill landed mid-run (rows after each kill: {seen})"
    assert out.read_bytes() == whole.read_bytes(), f"kills after {kills} s"
    assert len(results(out)) == count


def test_a_model_grader_run_killed_and_resumed_writes_the_uninterrupted_file(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.always(score(0.5, delay=0.01))
    grader = grader_file(tmp_path, {
        "type": "score_model", "name": "judge", "model": "judge-model",
        "input": [{"role": "user", "content": "Rate {{ sample.output_text }} against {{ item.answer }}"}],
    })  # fmt: skip
    config = tmp_path / "gradergen.toml"
    config.write_text(
        f'[models]\nbase_url = "{fake_openai.url}"\napi_key_env = "{KEY_VARIABLE}"\nconcurrency = 4\n'
        "[cache]\nenabled = false\n"
    )
    data = write_jsonl(tmp_path / "rows.jsonl", cases(300))
    env = {KEY_VARIABLE: "test-key"}
    args: list[str | Path] = ["--grader", grader, "--data", data, "--id-field", "id", "--config", config]
    whole = tmp_path / "whole.jsonl"
    started = time.monotonic()
    finished = _cli(*args, "--out", whole, env=env)
    _, stderr = finished.communicate(timeout=600)
    assert finished.returncode == 0, stderr.decode()
    took = time.monotonic() - started
    assert [r["reward"] for r in results(whole)] == [0.5] * 300
    assert fake_openai.peak_in_flight <= 4

    out = tmp_path / "stopped.jsonl"
    seen = []
    rng = random.Random()
    for number, delay in enumerate([rng.uniform(0.4 * took, 0.8 * took) for _ in range(2)]):
        process = _cli(*args, "--out", out, *(["--resume"] if number else []), env=env)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        seen.append(out.read_bytes().count(b"\n") if out.exists() else 0)
    process = _cli(*args, "--out", out, "--resume", env=env)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr.decode()
    assert any(0 < n < 300 for n in seen), seen
    assert out.read_bytes() == whole.read_bytes()


def test_resume_cuts_a_half_written_last_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_jsonl(tmp_path / "rows.jsonl", cases(50))
    grader = grader_file(tmp_path, EXACT)
    out = tmp_path / "o.jsonl"
    assert grade("--grader", grader, "--data", data, "--out", out, capsys=capsys)[0] == 0
    whole = out.read_bytes()
    lines = whole.splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:20]) + lines[20][:37])  # a kill in the middle of row 20
    code, stdout, stderr = grade("--grader", grader, "--data", data, "--out", out, "--resume", capsys=capsys)
    assert code == 0, stderr
    assert out.read_bytes() == whole
    assert "50 rows: 50 graded" in stdout, "the summary counts the rows written before the stop too"


def test_resume_refuses_another_grader_or_changed_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "rows.jsonl", cases(30))
    out = tmp_path / "o.jsonl"
    assert grade("--grader", grader_file(tmp_path, EXACT), "--data", data, "--out", out, "--id-field", "id",
                 capsys=capsys)[0] == 0  # fmt: skip
    before = out.read_bytes()
    out.write_bytes(b"".join(before.splitlines(keepends=True)[:10]))

    code, _, stderr = grade(
        "--grader", grader_file(tmp_path, LOOSE, "loose.json"), "--data", data, "--out", out,
        "--id-field", "id", "--resume", capsys=capsys,
    )  # fmt: skip
    assert code == 2
    assert f"--resume: {out} was graded differently — graders:" in stderr
    assert out.read_bytes() == b"".join(before.splitlines(keepends=True)[:10]), "nothing written"

    changed = cases(30)
    changed[4]["id"] = "other"
    write_jsonl(data, changed)
    code, _, stderr = grade(
        "--grader", grader_file(tmp_path, EXACT), "--data", data, "--out", out, "--id-field", "id",
        "--resume", capsys=capsys,
    )  # fmt: skip
    assert code == 2
    assert f"--resume: row 4 of {out} has id 'q4' but {data}:5 has id 'other'" in stderr


# ----------------------------------------------------------------------------- memory
def _feed(fifo: Path, head: bytes, row: Any, count: int, separator: bytes, tail: bytes) -> threading.Thread:
    """Write `count` rows (row(i) -> bytes) into the named pipe from a thread: data that never exists
    on disk nor whole in any memory."""

    def write() -> None:
        try:
            with fifo.open("wb") as f:
                f.write(head)
                block: list[bytes] = []
                for i in range(count):
                    block.append(row(i))
                    if len(block) == 64:
                        f.write(separator.join(block) + (separator if i + 1 < count else b""))
                        block = []
                if block:
                    f.write(separator.join(block))
                f.write(tail)
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(("fmt", "gigabytes"), [("jsonl", 2), ("json", 1), ("csv", 1)])
def test_multi_gigabyte_input_is_graded_in_flat_memory(fmt: str, gigabytes: int, tmp_path: Path) -> None:
    """GBs of rows through a pipe into a process that may map only 1 GiB: reading never holds more
    than a chunk (json.load of the data, or a list of its rows, would die with MemoryError)."""
    padding = "x" * 16_000
    count = (gigabytes << 30) // 16_100
    fifo = tmp_path / f"rows.{fmt}"
    os.mkfifo(fifo)

    def as_json(i: int) -> bytes:
        return json.dumps({"id": i, "answer": f"a{i % 2}", "pad": padding, "model_sample": "a0"}).encode()

    if fmt == "jsonl":
        feeder = _feed(fifo, b"", as_json, count, b"\n", b"\n")
    elif fmt == "json":
        feeder = _feed(fifo, b"[", as_json, count, b",\n", b"]")
    else:
        feeder = _feed(fifo, b"id,answer,pad,model_sample\r\n",
                       lambda i: f"{i},a{i % 2},{padding},a0".encode(), count, b"\r\n", b"\r\n")  # fmt: skip
    out = tmp_path / "out.jsonl"
    code, stderr, peak_mib = run_measuring_peak_memory(
        [*GRADERGEN, "grade", "-q", "--grader", str(grader_file(tmp_path, EXACT)), "--data", str(fifo),
         "--format", fmt, "--id-field", "id", "--out", str(out)],
        1024, tmp_path,
    )  # fmt: skip
    feeder.join(timeout=60)
    assert code == 0, stderr
    assert peak_mib < 200, f"peak resident memory {peak_mib:.0f} MiB"
    with out.open("rb") as f:
        written = sum(1 for _ in f)
    assert written == count
    last = json.loads(out.read_bytes()[-2000:].splitlines()[-1])
    assert last["index"] == count - 1 and last["reward"] == (1.0 if (count - 1) % 2 == 0 else 0.0)


def test_a_giant_line_is_a_row_with_an_error_and_the_rows_after_it_keep_their_places(tmp_path: Path) -> None:
    data = tmp_path / "rows.jsonl"
    rows = cases(3)
    with data.open("wb") as f:
        f.write(json.dumps(rows[0]).encode() + b"\n")
        f.seek(1 << 30, os.SEEK_CUR)  # a sparse gigabyte of NUL bytes: one line, no disk used
        f.write(b"\n" + json.dumps(rows[1]).encode() + b"\n" + json.dumps(rows[2]).encode() + b"\n")
    out = tmp_path / "out.jsonl"
    process = subprocess.run(
        [*GRADERGEN, "grade", "-q", "--grader", str(grader_file(tmp_path, EXACT)), "--data", str(data),
         "--out", str(out)],
        capture_output=True, text=True, preexec_fn=address_space_limit(1024), timeout=300,
    )  # fmt: skip
    assert process.returncode == 3, process.stderr
    written = results(out)
    assert [r["index"] for r in written] == [0, 1, 2, 3]
    assert written[1]["error"] == f"{data}:2: the row is over 64 MiB (1024.0 MiB), the limit (--max-row-mib)"
    assert [r["reward"] for r in written if r["reward"] is not None] == [exact_reward(i) for i in range(3)]


# ----------------------------------------------------------------------------- report, in a browser
def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) pixels of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat = 8, b""
    width = height = channels = 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line) if channels == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
        previous = line
    return width, height, rows


def _screenshot(page: Path, shot: Path, tmp_path: Path) -> tuple[int, int, list[bytes]]:
    chromium = require_tool("chromium")
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--hide-scrollbars", "--window-size=1000,1400",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return _png_pixels(shot.read_bytes())


def _colour_columns(rows: list[bytes], colour: str) -> dict[int, int]:
    """For each pixel column holding the colour, how many pixels of it (the bars' heights)."""
    rgb = bytes.fromhex(colour.lstrip("#"))
    columns: dict[int, int] = {}
    for line in rows:
        at = line.find(rgb)
        while at >= 0:
            if at % 3 == 0:
                columns[at // 3] = columns.get(at // 3, 0) + 1
            at = line.find(rgb, at + 1)
    return columns


def test_the_report_draws_the_histogram_in_a_headless_browser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "rows.jsonl", cases(400))
    report = tmp_path / "report.html"
    code, stdout, stderr = grade(
        "--grader", grader_file(tmp_path, MULTI), "--data", data, "--out", tmp_path / "o.jsonl",
        "--id-field", "id", "--report", report, capsys=capsys,
    )  # fmt: skip
    assert code == 0, stderr
    assert f"report: {report}" in stdout
    html = report.read_text()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert "<script" not in html and " src=" not in html, "self-contained: nothing to fetch"
    assert html.count('class="histogram"') == 3, "the rewards and the two sub-graders"
    assert "Worst-scoring rows" in html and "<td>q2</td>" in html, "row 2 (reward 0) is among the worst"

    width, height, pixels = _screenshot(report, tmp_path / "report.png", tmp_path)
    assert (width, height) == (1000, 1400)
    columns = _colour_columns(pixels, BAR_COLOUR)
    assert len(columns) > 100, "the bars are drawn in their colour"
    # The main histogram: 200 rows at 0, 100 at 0.75, 100 at 1 — the first bar twice the others' height.
    heights = sorted(set(columns.values()), reverse=True)
    tallest = heights[0]
    assert any(abs(h * 2 - tallest) <= 2 for h in heights[1:]), heights[:8]


def test_compare_lists_where_two_graders_disagree_most(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "rows.jsonl", cases(40))
    out, report = tmp_path / "both.jsonl", tmp_path / "compare.html"
    code, stdout, stderr = grade(
        "--compare", grader_file(tmp_path, EXACT, "old.json"), grader_file(tmp_path, LOOSE, "new.json"),
        "--data", data, "--id-field", "id", "--out", out, "--report", report, capsys=capsys,
    )  # fmt: skip
    assert code == 0, stderr
    rows = results(out)
    assert list(rows[1]) == ["index", "id", "old", "new"]
    assert [(r["old"]["reward"], r["new"]["reward"]) for r in rows] == [
        (exact_reward(i), loose_reward(i)) for i in range(40)
    ]
    # They differ on the rows whose sample differs only in case: i % 4 == 1, by 1 each.
    assert "same reward on 30 of 40 rows (75.0%)" in stdout
    assert "mean difference (new - old) 0.25" in stdout
    listed = [line for line in stdout.splitlines() if line.startswith("  row ")]
    assert listed[:3] == ["  row 1 (id q1)  old 0 → new 1", "  row 5 (id q5)  old 0 → new 1",
                          "  row 9 (id q9)  old 0 → new 1"]  # fmt: skip
    html = report.read_text()
    assert "Where they disagree most" in html and "<td>q37</td>" in html and "<td>q2</td>" not in html
    _, _, pixels = _screenshot(report, tmp_path / "compare.png", tmp_path)
    assert len(_colour_columns(pixels, BAR_COLOUR)) > 20 and len(_colour_columns(pixels, NEW_COLOUR)) > 20


# ----------------------------------------------------------------------------- model graders
@pytest.fixture(scope="module")
def fake_openai_session() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake_openai(fake_openai_session: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv(KEY_VARIABLE, "test-key")
    fake_openai_session.reset()
    yield fake_openai_session
    from gradergen.engine.services import close_all

    close_all()
    fake_openai_session.reset()


def _model_config(tmp_path: Path, fake: FakeOpenAI, cache: bool) -> Path:
    path = tmp_path / "gradergen.toml"
    path.write_text(
        f'[models]\nbase_url = "{fake.url}"\napi_key_env = "{KEY_VARIABLE}"\nmax_retries = 1\n'
        f'[cache]\nenabled = {"true" if cache else "false"}\npath = "{tmp_path / "cache.sqlite"}"\n'
    )
    return path


JUDGE = {
    "type": "score_model",
    "name": "judge",
    "model": "gpt-4o-mini",
    "input": [
        {"role": "user", "content": "Is {{ sample.output_text }} right? The answer is {{ item.answer }}."}
    ],
}


def test_max_concurrency_bounds_the_model_calls_in_flight(
    tmp_path: Path, fake_openai: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.always(score(0.5, delay=0.05))
    out = tmp_path / "o.jsonl"
    code, stdout, stderr = grade(
        "--grader", grader_file(tmp_path, JUDGE), "--data", write_jsonl(tmp_path / "r.jsonl", cases(24)),
        "--config", _model_config(tmp_path, fake_openai, cache=False), "--max-concurrency", "3",
        "--id-field", "id", "--out", out, capsys=capsys,
    )  # fmt: skip
    assert code == 0, stderr
    assert fake_openai.peak_in_flight == 3
    written = results(out)
    assert [r["id"] for r in written] == [f"q{i}" for i in range(24)]
    assert all(r["reward"] == 0.5 for r in written)
    assert "model tokens: 360" in stdout, "24 calls of 15 tokens (the fake's usage: 10 prompt, 5 completion)"
    assert "slowest rows:" in stdout


def test_dry_run_counts_calls_and_prompt_tokens_and_calls_nothing(
    tmp_path: Path, fake_openai: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    import bpe_openai

    rows = cases(8)
    data = write_jsonl(tmp_path / "r.jsonl", rows)
    grader = grader_file(tmp_path, JUDGE)
    config = _model_config(tmp_path, fake_openai, cache=True)
    code, stdout, stderr = grade(
        "--grader", grader, "--data", data, "--config", config, "--dry-run", capsys=capsys
    )
    assert code == 0, stderr
    assert fake_openai.requests == [], "a dry run calls nothing"
    encoding = bpe_openai.get_encoding("o200k_base")  # gpt-4o-mini's tokenizer
    expected = sum(
        3 + 3 + len(encoding.encode_ordinary("user"))
        + len(encoding.encode_ordinary(f"Is {r['model_sample']} right? The answer is {r['answer']}."))
        for r in rows
    )  # fmt: skip
    assert "model calls of judge (gpt-4o-mini): 8, 0 answered by the cache, 8 to make" in stdout
    assert f"prompt tokens of the calls to make, estimated: {expected:,}" in stdout

    # Graded once (the answers cached), a dry run finds every call answered.
    fake_openai.always(score(1))
    assert grade("--grader", grader, "--data", data, "--config", config, "--out", tmp_path / "o.jsonl",
                 capsys=capsys)[0] == 0  # fmt: skip
    calls = len(fake_openai.requests)
    code, stdout, _ = grade(
        "--grader", grader, "--data", data, "--config", config, "--dry-run", capsys=capsys
    )
    assert "8, 8 answered by the cache, 0 to make" in stdout
    assert len(fake_openai.requests) == calls


# ----------------------------------------------------------------------------- python graders
def test_a_python_grader_grades_a_dataset_through_the_pool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grader = {
        "type": "python",
        "name": "length",
        "source": "def grade(sample, item):\n    return len(sample['output_text']) / 10\n",
    }
    rows = [{"model_sample": "x" * (i % 11)} for i in range(300)]
    out = tmp_path / "o.jsonl"
    code, _, stderr = grade(
        "--grader", grader_file(tmp_path, grader), "--data", write_jsonl(tmp_path / "r.jsonl", rows),
        "--out", out, capsys=capsys,
    )  # fmt: skip
    assert code == 0, stderr
    assert [r["reward"] for r in results(out)] == [(i % 11) / 10 for i in range(300)]


# ----------------------------------------------------------------------------- the library
def test_the_library_api_reads_writes_and_summarises(tmp_path: Path) -> None:
    from gradergen.engine.compiled import compile_grader
    from gradergen.engine.config import EngineConfig

    data = tmp_path / "rows.csv"
    _write_format(data, "csv", cases(12))
    compiled = compile_grader(LOOSE, EngineConfig.load(environ={}))
    written = []
    with read_rows(str(data), id_field="id") as rows:
        for row in rows:
            response = compiled.run(row.sample, row.item)
            written.append(result_row(row.index, row.id, response_data(response, timings=False)))
    out = tmp_path / "results.jsonl"
    assert write_results(out, written) == 12
    summary = summarise(out).as_dict()
    assert summary["rows"] == 12 and summary["reward"]["mean"] == 0.5
    assert summary["worst"][0] == {"index": 2, "id": "q2", "reward": 0.0, "flags": []}
    assert io.StringIO(out.read_text()).readline().startswith('{"index":0,"id":"q0","reward":1.0,')


# ----------------------------------------------------------------------------- the progress bar
def test_on_a_terminal_a_progress_bar_shows_rows_rate_time_left_flags_and_tokens(tmp_path: Path) -> None:
    import pty

    grader = {**EXACT, "reference": "{{ item.expected }}"}  # no "expected" field: every row is flagged
    data = write_jsonl(tmp_path / "rows.jsonl", cases(3000))
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*GRADERGEN, "grade", "--grader", str(grader_file(tmp_path, grader)), "--data", str(data),
         "--out", str(tmp_path / "o.jsonl")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower,
        env={**os.environ, "COLUMNS": "200", "TERM": "xterm"},
    )  # fmt: skip
    os.close(follower)
    stdout, _ = process.communicate(timeout=300)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    assert process.returncode == 0
    text = screen.decode("utf-8", "replace")
    assert "100%" in text and "3,000 rows" in text and "rows/s" in text
    assert "elapsed" in text and "left" in text
    assert "3,000 flagged · 0 tokens" in text
    assert b"invalid_variable_error  3,000" in stdout, "the summary goes to standard output"

    quiet = subprocess.run(
        [*GRADERGEN, "grade", "-q", "--grader", str(grader_file(tmp_path, grader)), "--data", str(data),
         "--out", str(tmp_path / "q.jsonl")],
        capture_output=True, timeout=300,
    )  # fmt: skip
    assert quiet.returncode == 0 and quiet.stdout == b"" and quiet.stderr == b""

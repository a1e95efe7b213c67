"""Soak the validator: many mutated graders and damaged texts, through the library and the CLI.

tests/test_validate_fuzz.py runs a few hundred derandomized examples in CI; this runs as many as asked
(100,000 by default), each made by a random.Random seeded from --seed and its number, so any case can
be made again. Half the cases are grader documents mutated as values (fields deleted and inserted,
types swapped, unicode, huge and non-finite numbers, deep nesting, long strings); the other half are
grader files damaged as bytes (truncated, bytes flipped, inserted, deleted, repeated, a BOM, CRLF, a
huge number literal or deep brackets spliced in).

Every case goes through `gradergen.validate` (values) or `gradergen.validate_text` (texts, as JSON,
YAML and JSONL), and is written to a file; the files are checked by `gradergen validate FILE…
--format json`, --batch files a run, and each batch's values once more as the lines of one JSONL
file. An escape is anything but a report: an exception, a warning, a call running over --hang
seconds, a problem without a message or (outside unreadable input) without a line, a CLI exit
status other than 0, 1 or 2, anything on its stderr, output that is not the JSON report, or a file
missing from it. A batch with an escape is run again file by file to name the cases. Results go to
bench/results/soak.json; the exit status is 1 when anything escaped.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CORPUS = ROOT / "tests" / "validate_corpus"
RESULTS = ROOT / "bench" / "results" / "soak.json"

SPEC_KEYS = (
    "type name input reference operation evaluation_metric source image_tag model range sampling_params "
    "labels passing_labels graders calculate_output role content text image_url detail input_audio data "
    "format max_completions_tokens temperature top_p seed reasoning_effort grader model_sample item"
)
KEYS = [*SPEC_KEYS.split(), "$schema", "", "ключ", "🔑", "a/b", "~0", "pass_threshold", "type "]
STRINGS = [
    "",
    "é",
    "\u202eevil",
    "🙂" * 50,
    "\x00",
    "\ud800",
    "\ufeff",
    "{{ sample.output_text }}",
    "{{",
    "}}",
    "{{ item.a[x] }}",
    "string_check",
    "multi",
    "label_model",
    "def grade(sample, item):\n    return 1.0\n",
    "def grade(s):\n\treturn",
    "a + b * (c",
    "max(a, b) ^ 2",
    "x" * 300_000,
    "\n" * 1000,
    "true",
    "1e999",
]
NUMBERS = [0, -1, 1, 2**31, 2**63, -(2**64), 10**30, 10**4000, 1.5, -0.0, 5e-324, 1e308, 0.1]
NON_FINITE = [float("inf"), float("-inf"), float("nan")]


# --------------------------------------------------------------------------- seeds
def seeds() -> list[Any]:
    """Every document of the validator's corpus: valid, invalid and warning cases."""
    out: list[Any] = []
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix == ".jsonl":
            out.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
        elif path.suffix == ".json" and path.parent != CORPUS:
            out.append(json.loads(path.read_text()))
        elif path.suffix == ".yaml":
            out.extend(yaml.safe_load_all(path.read_text()))
    return out


# --------------------------------------------------------------------------- value mutations
def scalar(rng: random.Random, finite: bool) -> Any:
    kind = rng.randrange(5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice(NUMBERS if finite or rng.random() < 0.7 else NON_FINITE)
    return rng.choice(STRINGS)


def value(rng: random.Random, depth: int = 0, finite: bool = True) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.6:
        return scalar(rng, finite)
    if roll < 0.8:
        return [value(rng, depth + 1, finite) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): value(rng, depth + 1, finite) for _ in range(rng.randrange(4))}


def nested(rng: random.Random, inner: Any, depth: int) -> Any:
    for _ in range(depth):
        inner = [inner] if rng.random() < 0.5 else {rng.choice(KEYS): inner}
    return inner


def places(doc: Any) -> list[tuple[Any, Any]]:
    """(container, key or index) of every value inside the document."""
    out: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        children = (
            node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        )
        for key, child in children:
            out.append((node, key))
            stack.append(child)
    return out


def mutate(rng: random.Random, doc: Any, finite: bool) -> Any:
    """One to four random edits of a deep copy of `doc`."""
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randint(1, 4)):
        spots = places(doc)
        if not spots or rng.random() < 0.05:
            doc = value(rng, finite=finite) if rng.random() < 0.5 else {"grader": doc}
            continue
        parent, key = rng.choice(spots)
        how = rng.randrange(9)
        if how == 0:  # delete
            del parent[key]
        elif how == 1 and isinstance(parent, dict):  # insert
            parent[rng.choice(KEYS)] = value(rng, finite=finite)
        elif how == 2:  # swap the type
            parent[key] = value(rng, finite=finite)
        elif how == 3 and isinstance(parent[key], str):  # splice into a string
            text, cut = parent[key], rng.randrange(len(parent[key]) + 1)
            parent[key] = text[:cut] + rng.choice(STRINGS)[:200] + text[cut:]
        elif how == 4:  # deep nesting (as deep as JSON text can still carry)
            parent[key] = nested(rng, parent[key], rng.choice([10, 100, 400]))
        elif how == 5 and isinstance(parent[key], list):  # repeat items
            parent[key].extend(parent[key] * rng.randint(1, 50))
        elif how == 6 and isinstance(parent[key], dict):  # a different tag
            parent[key]["type"] = rng.choice(
                ["string_check", "python", "multi", "label_model", "input_text", "x"]
            )
        elif how == 7:  # a number from the edges
            parent[key] = rng.choice(NUMBERS + ([] if finite else NON_FINITE))
        elif how == 8 and isinstance(parent, dict):  # many unknown keys
            parent.update({f"k{i}": i for i in range(rng.choice([10, 1000]))})
    return doc


# --------------------------------------------------------------------------- byte damage
def damage(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        how = rng.randrange(10)
        if how == 0:
            data = data[:at]
        elif how == 1 and data:
            i = min(at, len(data) - 1)
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]
        elif how == 2:
            data = data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[at:]
        elif how == 3:
            data = data[:at] + data[at + rng.randint(1, 64) :]
        elif how == 4:
            data = data[:at] + data[max(0, at - 200) : at] * rng.randint(1, 20) + data[at:]
        elif how == 5:
            data = b"\xef\xbb\xbf" + data if rng.random() < 0.5 else b"\xff\xfe" + data
        elif how == 6:
            data = data.replace(b"\n", b"\r\n")
        elif how == 7:
            data = data[:at] + b"9" * rng.choice([400, 5000]) + data[at:]
        elif how == 8:
            depth = rng.choice([50, 2000, 20_000])
            data = data[:at] + b"[" * depth + b"]" * depth + data[at:]
        else:
            data = (
                data[:at]
                + rng.choice([b"\t", b"\x00", b"&a ", b"*a", b"<<: ", b"!!python/object ", b"---\n"])
                + data[at:]
            )
    return data


def serialized(rng: random.Random, docs: list[Any]) -> tuple[str, bytes]:
    """A seed written as a grader file: (extension, bytes)."""
    doc = rng.choice(docs)
    form = rng.randrange(3)
    if form == 0:
        return ".json", json.dumps(doc, indent=rng.choice([None, 2]), ensure_ascii=False).encode()
    if form == 1:
        return ".yaml", yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode()
    lines = [json.dumps(rng.choice(docs), ensure_ascii=False) for _ in range(rng.randint(2, 20))]
    return ".jsonl", ("\n".join(lines) + "\n").encode()


# --------------------------------------------------------------------------- running
class Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Hang


def bounded(hang: float, call: Callable[[], Any]) -> Any:
    signal.setitimer(signal.ITIMER_REAL, hang)
    try:
        return call()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def misplaced(problems: list[Any], located: bool) -> str | None:
    for p in problems:
        if p.severity not in ("error", "warning") or not p.message:
            return f"a problem without a severity or message: {p}"
        if located and p.code != "input" and (not p.line or not p.column):
            return f"a problem without a line and column: {p}"
    return None


def check_library(case: tuple[str, Any], hang: float) -> str | None:
    """None, or what escaped."""
    import gradergen

    kind, payload = case
    try:
        with warnings.catch_warnings(record=True) as caught:  # the library must not print any
            warnings.simplefilter("always")
            if kind == "value":
                found = misplaced(bounded(hang, lambda: gradergen.validate(payload)), located=False)
            else:
                name, text = payload
                found = misplaced(
                    bounded(hang, lambda: gradergen.validate_text(text, name=name)), located=True
                )
        return found or (
            f"a warning was printed: {caught[0].category.__name__}: {caught[0].message}" if caught else None
        )
    except Hang:
        return f"ran over {hang} s"
    except Exception as exc:  # anything at all is an escape
        return (
            "".join(traceback.format_exception_only(exc)).strip()[:500]
            + "\n"
            + traceback.format_exc()[-1500:]
        )


def run_cli(paths: list[Path], hang: float) -> str | None:
    try:
        result = subprocess.run(
            [str(BIN / "gradergen"), "validate", "--format", "json", *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=hang,
        )
    except subprocess.TimeoutExpired:
        return f"the CLI ran over {hang:.0f} s"
    if result.returncode not in (0, 1, 2):
        return f"exit status {result.returncode}: {result.stderr[-1500:]}"
    if result.stderr:
        return f"stderr: {result.stderr[-1500:]}"
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return f"not a JSON report: {result.stdout[:300]!r}"
    listed = {f["file"] for f in report["files"]}
    missing = [str(p) for p in paths if str(p) not in listed]
    return f"files missing from the report: {missing[:5]}" if missing else None


def make_case(rng: random.Random, docs: list[Any]) -> tuple[tuple[str, Any], str, bytes | None]:
    """A case for the library, and the extension and bytes of its file for the CLI (None when JSON
    text cannot carry the value, such as 10**4000)."""
    if rng.random() < 0.5:
        doc = mutate(rng, rng.choice(docs), finite=rng.random() < 0.8)
        try:
            data: bytes | None = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
        except (ValueError, RecursionError):
            data = None
        return ("value", doc), ".json", data
    suffix, data = serialized(rng, docs)
    data = damage(rng, data)
    text = data.decode("utf-8", "surrogateescape" if rng.random() < 0.1 else "replace")
    return ("text", (f"case{suffix}", text)), suffix, data


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="cases (default 100000)")
    parser.add_argument("--seed", type=int, default=9, help="seed of the whole run (default 9)")
    parser.add_argument("--batch", type=int, default=500, help="files per CLI run (default 500)")
    parser.add_argument(
        "--hang", type=float, default=10.0, help="seconds a library call may take (default 10)"
    )
    args = parser.parse_args()
    import gradergen

    docs = seeds()
    gradergen.validate(docs[0])  # build the validator before the clock starts
    signal.signal(signal.SIGALRM, _alarm)
    escapes: list[dict[str, Any]] = []
    slowest = (0.0, -1)
    started = time.perf_counter()
    kinds = {"value": 0, "text": 0}
    with tempfile.TemporaryDirectory(prefix="gradergen-soak-") as tmp:
        for first in range(0, args.count, args.batch):
            directory = Path(tmp) / f"batch{first}"
            directory.mkdir()
            files: dict[Path, int] = {}
            lines: list[bytes] = []  # the batch's values once more, one per line of a JSONL file
            for number in range(first, min(first + args.batch, args.count)):
                rng = random.Random(f"{args.seed}:{number}")
                case, suffix, data = make_case(rng, docs)
                kinds[case[0]] += 1
                began = time.perf_counter()
                escaped = check_library(case, args.hang)
                slowest = max(slowest, (time.perf_counter() - began, number))
                if escaped:
                    escapes.append({"case": number, "where": "library", "what": escaped})
                if data is not None:
                    path = directory / f"case{number}{suffix}"
                    path.write_bytes(data)
                    files[path] = number
                    if case[0] == "value":
                        lines.append(data)  # compact JSON: one line
            (directory / "values.jsonl").write_bytes(b"\n".join(lines) + b"\n")
            batch_escape = run_cli([*files, directory / "values.jsonl"], args.hang * len(files))
            if batch_escape:  # name the cases: each file on its own
                for path, number in files.items():
                    escaped = run_cli([path], args.hang * 10)
                    if escaped:
                        escapes.append({"case": number, "where": "cli", "what": escaped})
            done = min(first + args.batch, args.count)
            if done % 10_000 == 0 or done == args.count:
                print(
                    f"{done:>7} cases, {len(escapes)} escapes, {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    results = {
        "cases": args.count,
        "seed": args.seed,
        "values": kinds["value"],
        "texts": kinds["text"],
        "escapes": len(escapes),
        "slowest_library_call_seconds": round(slowest[0], 3),
        "slowest_case": slowest[1],
        "seconds": round(time.perf_counter() - started, 1),
        "python": sys.version.split()[0],
        "escaped": escapes[:100],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(
        f"{args.count} cases ({kinds['value']} values, {kinds['text']} texts): {len(escapes)} escapes; "
        f"slowest library call {slowest[0]:.2f} s (case {slowest[1]}); written to {RESULTS.relative_to(ROOT)}"
    )
    for escape in escapes[:10]:
        print(f"case {escape['case']} ({escape['where']}): {escape['what'][:400]}")
    sys.exit(1 if escapes else 0)


if __name__ == "__main__":
    main()

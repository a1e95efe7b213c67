"""`gradergen grade` end to end against a plain Python loop calling the engine, side by side.

Two datasets, built here deterministically:
  - string_check: 1,000,000 JSONL rows `{"id", "answer", "model_sample"}`, an exact-match grader;
  - python: 100,000 rows through a python grader (the sample's text against the item's answer), in
    the sandbox at the strongest isolation this machine allows.

Contenders, each a process of its own, timed from its start to its exit (interpreter start and
imports included for both):
  - cli: `gradergen grade -q --grader G --data D --id-field id --out O`;
  - loop: what a person writes without the CLI: read the file a line at a time, `json.loads`,
    `compiled.run(sample, item)` for each row (a python grader: one sample at a time through the
    sandbox pool), and write the same result rows (`result_row`/`response_data`/`dumps`) to a file.
The two output files must be byte-identical, or the benchmark stops.

Peak memory is the highest summed proportional set size of the contender's process tree (sandbox
workers included), sampled every 10 ms. Each round runs both contenders on both datasets in turn, so
that noise from other work on the machine falls on all of them; figures are medians over the rounds,
and the machine's load average is printed with them. Results go to bench/results/grade.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_python_graders import PeakMemory  # the same sampler as the python graders' benchmark

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "grade.json"

STRING_CHECK = {
    "type": "string_check",
    "name": "exact",
    "input": "{{ sample.output_text }}",
    "reference": "{{ item.answer }}",
    "operation": "eq",
}
PYTHON = {
    "type": "python",
    "name": "answer",
    "source": (
        "def grade(sample, item):\n"
        "    said = sample['output_text'].rsplit(':', 1)[-1].strip()\n"
        "    return 1.0 if said == str(item['answer']) else 0.0\n"
    ),
}
DATASETS = {"string_check": (STRING_CHECK, 1_000_000), "python": (PYTHON, 100_000)}

LOOP = """\
import json, sys
from gradergen.engine.compiled import compile_grader
from gradergen.engine.config import EngineConfig
from gradergen.grading.results import dumps, response_data, result_row

grader_path, data_path, out_path = sys.argv[1:4]
compiled = compile_grader(json.load(open(grader_path)), EngineConfig.load())
with open(data_path, encoding="utf-8") as data, open(out_path, "w", encoding="ascii") as out:
    for index, line in enumerate(data):
        item = json.loads(line)
        sample = item.pop("model_sample")
        response = compiled.run(sample, item)
        out.write(dumps(result_row(index, item["id"], response_data(response, timings=False))) + "\\n")
"""


def write_rows(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            answer = i % 10
            said = answer if i % 3 else answer + 1
            f.write(json.dumps({"id": f"r{i}", "answer": str(answer),
                                "model_sample": f"The answer is: {said}"}) + "\n")  # fmt: skip


def measure(command: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    memory = PeakMemory(child.pid)
    _, err = child.communicate()
    seconds = time.perf_counter() - started
    peak_kb = memory.stop()
    if child.returncode != 0:
        raise SystemExit(f"{command[:3]} failed (exit {child.returncode}):\n{err.strip()}")
    return {"seconds": seconds, "peak_mb": peak_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3); figures are medians")
    parser.add_argument("--only", choices=sorted(DATASETS), action="append", help="one dataset (repeatable)")
    parser.add_argument("--scale", type=float, default=1.0, help="row counts times this (default 1)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    names = args.only or list(DATASETS)
    gradergen = str(Path(sys.executable).with_name("gradergen"))
    load_before = os.getloadavg()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        loop = scratch / "loop.py"
        loop.write_text(LOOP)
        prepared = {}
        for name in names:
            grader, count = DATASETS[name]
            count = max(1, int(count * args.scale))
            (scratch / f"{name}.json").write_text(json.dumps(grader))
            write_rows(scratch / f"{name}.jsonl", count)
            prepared[name] = count
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {n: {"cli": [], "loop": []} for n in names}
        for number in range(args.rounds):
            for name in names:
                grader, data = scratch / f"{name}.json", scratch / f"{name}.jsonl"
                cli_out, loop_out = scratch / f"{name}.cli.jsonl", scratch / f"{name}.loop.jsonl"
                cli_out.unlink(missing_ok=True)
                cli = [gradergen, "grade", "-q", "--grader", str(grader), "--data", str(data),
                       "--id-field", "id", "--out", str(cli_out), "--overwrite"]  # fmt: skip
                runs[name]["cli"].append(measure(cli))
                plain = [sys.executable, str(loop), str(grader), str(data), str(loop_out)]
                runs[name]["loop"].append(measure(plain))
                if cli_out.read_bytes() != loop_out.read_bytes():
                    raise SystemExit(f"{name}: the CLI and the loop wrote different results")
                line = ", ".join(f"{c} {runs[name][c][-1]['seconds']:.1f} s" for c in ("cli", "loop"))
                print(f"round {number + 1} {name} ({prepared[name]:,} rows): {line}", flush=True)
    for name in names:
        count = prepared[name]
        entry: dict[str, Any] = {"rows": count}
        for contender in ("cli", "loop"):
            seconds = statistics.median(r["seconds"] for r in runs[name][contender])
            entry[contender] = {
                "seconds": seconds,
                "rows_per_second": count / seconds,
                "peak_mb": statistics.median(r["peak_mb"] for r in runs[name][contender]),
            }
        entry["cli_over_loop"] = entry["cli"]["rows_per_second"] / entry["loop"]["rows_per_second"]
        figures[name] = entry
    figures["rounds"] = args.rounds
    figures["load_average"] = {"before": load_before, "after": os.getloadavg()}
    figures["cores"] = os.cpu_count()
    print()
    print(f"{'dataset':<14}{'rows':>11}{'cli rows/s':>13}{'loop rows/s':>13}{'cli/loop':>10}"
          f"{'cli peak MB':>13}{'loop peak MB':>14}")  # fmt: skip
    for name in names:
        e = figures[name]
        cli, plain = e["cli"], e["loop"]
        print(f"{name:<14}{e['rows']:>11,}{cli['rows_per_second']:>13,.0f}{plain['rows_per_second']:>13,.0f}"
              f"{e['cli_over_loop']:>9.2f}x{cli['peak_mb']:>13.0f}{plain['peak_mb']:>14.0f}")  # fmt: skip
    print(f"load average before {load_before[0]:.1f}, after {figures['load_average']['after'][0]:.1f} "
          f"({figures['cores']} cores); medians of {args.rounds} rounds")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

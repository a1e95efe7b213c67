"""`gradergen grade --engine ray` on a local 2-CPU Ray cluster against the local engine, side by side.

The run: 100,000 rows for a python grader (the number after "Final answer:" checked against the item's
answer, a little string work besides), written as JSONL here, deterministically. Contenders, in this
process, each through the `gradergen grade` command itself into a results file:
  - local: the local engine (chunks of 1,000 rows to the warm sandbox pool, two workers);
  - ray: `--engine ray` on a local Ray cluster of 2 CPUs started here before the clock starts (its
    start is reported apart): Ray Data reads the file, one actor holds the compiled grader and its
    pool of two sandbox workers, the driver writes the rows in order.
Each round runs both, in turn, so that noise from other work on the machine falls on both; figures
are medians over the rounds. The two results files must be byte-identical, every round. Results are
printed and written to bench/results/ray.json.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))

from gradergen.cli import build_parser  # noqa: E402
from gradergen.grading import command  # noqa: E402

WORDS = ["so", "then", "we", "add", "carry", "the", "sum"]
GRADER = {
    "type": "python",
    "name": "final_answer",
    "source": (
        "def grade(sample, item):\n"
        "    text = sample['output_text']\n"
        "    if 'Final answer:' not in text:\n"
        "        return 0.0\n"
        "    answer = text.rsplit('Final answer:', 1)[1].strip().split()[0]\n"
        "    return 1.0 if answer == str(item['answer']) else 0.0\n"
    ),
}


def write_rows(path: Path, count: int) -> None:
    rng = random.Random(12)
    with path.open("w") as out:
        for n in range(count):
            answer = rng.randrange(1000)
            said = answer if rng.random() < 0.6 else answer + 1
            words = " ".join(rng.choice(WORDS) for _ in range(30))
            row = {"id": f"q{n}", "answer": answer, "model_sample": f"{words}. Final answer: {said}"}
            out.write(json.dumps(row) + "\n")


def grade(grader: Path, data: Path, out: Path, *extra: str) -> float:
    argv = ["grade", "--quiet", "--grader", str(grader), "--data", str(data), "--id-field", "id",
            "--out", str(out), "--overwrite", *extra]  # fmt: skip
    started = time.perf_counter()
    status = command.run(build_parser().parse_args(argv), io.StringIO(), sys.stderr)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.exit(f"bench: gradergen grade {' '.join(extra)} exited {status}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from gradergen.grading.ray_engine import connect

    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    data, grader = work / "rows.jsonl", work / "grader.json"
    write_rows(data, args.rows)
    grader.write_text(json.dumps(GRADER))
    started = time.perf_counter()
    ray = connect(num_cpus=2)
    cluster_start = time.perf_counter() - started
    # a first, small run on each side: the image is loaded and the actor's code shipped before the clock
    warm = work / "warm.jsonl"
    with data.open() as rows, warm.open("w") as small:
        for _ in range(2000):
            small.write(rows.readline())
    grade(grader, warm, work / "w-local.jsonl")
    grade(grader, warm, work / "w-ray.jsonl", "--engine", "ray")

    times: dict[str, list[float]] = {"local": [], "ray": []}
    for number in range(args.rounds):
        times["local"].append(grade(grader, data, work / "local.jsonl"))
        times["ray"].append(grade(grader, data, work / "ray.jsonl", "--engine", "ray"))
        if (work / "local.jsonl").read_bytes() != (work / "ray.jsonl").read_bytes():
            sys.exit("bench: the Ray path's results file differs from the local engine's")
        print(
            f"round {number + 1}: local {times['local'][-1]:.2f} s, ray {times['ray'][-1]:.2f} s",
            flush=True,
        )
    ray.shutdown()
    median = {name: statistics.median(values) for name, values in times.items()}
    results = {
        "rows": args.rows,
        "rounds": args.rounds,
        "cluster_cpus": 2,
        "cluster_start_seconds": round(cluster_start, 2),
        "seconds": {name: [round(v, 3) for v in values] for name, values in times.items()},
        "rows_per_second": {name: round(args.rows / value) for name, value in median.items()},
        "ray_time_over_local": round(median["ray"] / median["local"], 3),
        "ray_time_over_local_per_round": [
            round(r / local, 3) for r, local in zip(times["ray"], times["local"], strict=True)
        ],
        "identical_output": True,
    }
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "ray.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

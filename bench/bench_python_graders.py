"""Python graders: the sandboxed warm pool against the same function called in-process, unsandboxed,
and against one fresh sandboxed process per sample, run side by side.

The grader is the documented rapidfuzz example grown to what RFT graders do: the number after
"Final answer:" checked against the item's answer, and the whole output fuzzy-matched
(`fuzz.WRatio` with `default_process`) against a reference explanation. The samples are 10,000
outputs of 300-500 characters built here, deterministically.

Contenders, each in a process of its own (so that its memory is its own):
  - in-process: the image's interpreter, no sandbox, the source exec'd once and `grade` called on
    every sample, its value turned into a float: the floor any sandbox adds to;
  - warm pool: `SandboxPool.run_many` over all samples, two workers (one per core), at the strongest
    isolation this machine allows; the workers are started before the clock starts (their start is
    reported apart);
  - fresh process per sample: the same sandbox, but every sample gets a new sandboxed interpreter
    (`samples_per_worker=1`, nothing imported ahead), two at a time; it runs on the first 200 samples
    and is compared by throughput.

Peak memory is the highest sum over the contender's process tree (its workers included) of the
proportional set size (shared pages split between the processes sharing them), read every 10 ms.
Each round runs every contender once, in turn, so that noise from other work on the machine falls on
all of them; figures are medians over the rounds. Every contender's rewards must agree. Results are
printed and written to bench/results/python_graders.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "python_graders.json"
SAMPLES = 10_000
FRESH_SAMPLES = 200
WORKERS = 2

GRADER = """\
import re

from rapidfuzz import fuzz, utils

FINAL = re.compile(r"final answer\\s*[:=]\\s*(-?\\d+(?:\\.\\d+)?)", re.IGNORECASE)


def grade(sample, item) -> float:
    text = sample["output_text"]
    match = FINAL.search(text)
    correct = 0.0
    if match is not None:
        expected = float(item["answer"])
        correct = float(abs(float(match.group(1)) - expected) <= 1e-6 * max(1.0, abs(expected)))
    similarity = fuzz.WRatio(text, item["reference_answer"], processor=utils.default_process) / 100.0
    return 0.5 * correct + 0.5 * similarity
"""

WORDS = (
    "the answer is found by adding both sides then we divide by two which gives a total of each part "
    "so first compute the sum of all values and check the remainder carefully before rounding down "
    "because the question asks for whole units only and therefore the result must be an integer"
).split()


def samples(count: int, seed: int = 10) -> list[list[Any]]:
    rng = random.Random(seed)

    def text(words: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."

    rows = []
    for _ in range(count):
        answer = rng.randint(0, 10_000)
        reference = text(rng.randint(50, 80))
        said = reference if rng.random() < 0.4 else text(rng.randint(50, 80))
        final = answer if rng.random() < 0.7 else answer + rng.randint(1, 9)
        output = f"{said} Final answer: {final}"
        rows.append(
            [{"output_text": output, "output_json": None}, {"answer": answer, "reference_answer": reference}]
        )
    return rows


# --------------------------------------------------------------------------- the contenders
def contender_inprocess(rows: list[list[Any]]) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(GRADER, "grader.py", "exec"), namespace)
    grade = namespace["grade"]
    started, cpu = time.perf_counter(), time.process_time()
    rewards = [float(grade(sample, item)) for sample, item in rows]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "rewards": rewards, "isolation": "none (in-process)"}


def contender_pool(rows: list[list[Any]], fresh: bool) -> dict[str, Any]:
    from gradergen.engine.config import DEFAULT_IMAGE, Python
    from gradergen.engine.sandbox.pool import SandboxPool

    settings = Python(workers=WORKERS)
    options: dict[str, Any] = {"samples_per_worker": 1, "warm": ()} if fresh else {}
    calls = [(sample, item) for sample, item in rows]
    with SandboxPool(settings, **options) as pool:
        start = 0.0
        if not fresh:
            began = time.perf_counter()
            pool.run_many(GRADER, calls[: WORKERS * 4], DEFAULT_IMAGE)  # both workers started and warm
            start = time.perf_counter() - began
        started, cpu, workers_cpu = time.perf_counter(), time.process_time(), _tree_cpu(os.getpid())
        results = pool.run_many(GRADER, calls, DEFAULT_IMAGE)
        seconds = time.perf_counter() - started
        # the workers' CPU: they live through the run (a fresh process per sample does not, so not there)
        cpu = time.process_time() - cpu + (_tree_cpu(os.getpid()) - workers_cpu if not fresh else 0.0)
        isolation = pool.isolation
    failed = [r for r in results if r.value is None]
    if failed:
        raise SystemExit(f"{len(failed)} samples failed in the sandbox, the first: {failed[0]}")
    rewards = [r.value for r in results]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "start": start,
        "rewards": rewards,
        "isolation": isolation,
    }


# --------------------------------------------------------------------------- measuring
def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _tree_cpu(root: int) -> float:
    """CPU seconds (user and system) used so far by the processes below `root`."""
    ticks = 0
    for pid in _descendants(root):
        if pid == root:
            continue
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class PeakMemory:
    """The highest summed PSS of a process tree, sampled every 10 ms while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = sum(_pss_kb(pid) for pid in _descendants(self.pid))
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(0.01)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kb


def measure(name: str, python: str, data: Path) -> dict[str, Any]:
    command = [python, __file__, "--contender", name, "--data", str(data)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    memory = PeakMemory(child.pid)
    out, err = child.communicate()
    peak_kb = memory.stop()
    if child.returncode != 0:
        raise SystemExit(f"{name} failed (exit {child.returncode}):\n{err.strip()}")
    result: dict[str, Any] = json.loads(out)
    result["peak_mb"] = peak_kb / 1024
    return result


def run_contender(name: str, data: Path) -> None:
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    if name == "inprocess":
        result = contender_inprocess(rows)
    elif name == "pool":
        result = contender_pool(rows, fresh=False)
    else:
        result = contender_pool(rows[:FRESH_SAMPLES], fresh=True)
    json.dump(result, sys.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds, at least 5 (default 5)")
    parser.add_argument("--contender", choices=("inprocess", "pool", "fresh"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:
        run_contender(args.contender, args.data)
        return
    if args.rounds < 5:
        parser.error("--rounds must be at least 5: the figures are medians")

    from gradergen.engine.config import DEFAULT_IMAGE
    from gradergen.engine.sandbox.image import require

    image_python = str(require(DEFAULT_IMAGE).python)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "samples.jsonl"
        data.write_text("".join(json.dumps(row) + "\n" for row in samples(SAMPLES)), encoding="utf-8")
        pythons = {"inprocess": image_python, "pool": sys.executable, "fresh": sys.executable}
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in pythons}
        for number in range(args.rounds):
            for name, python in pythons.items():
                rounds[name].append(measure(name, python, data))
            line = ", ".join(f"{n} {rounds[n][-1]['seconds']:.3f} s" for n in pythons)
            print(f"round {number + 1}: {line}", flush=True)

    reference = rounds["inprocess"][0]["rewards"]
    for name, runs in rounds.items():
        for run in runs:
            if run["rewards"] != reference[: len(run["rewards"])]:
                raise SystemExit(f"{name} gave other rewards than the in-process calls")

    def rate(name: str) -> float:
        return statistics.median(len(r["rewards"]) / r["seconds"] for r in rounds[name])

    summary = {
        name: {
            "samples": len(runs[0]["rewards"]),
            "median_seconds": statistics.median(r["seconds"] for r in runs),
            "samples_per_second": rate(name),
            "peak_mb": statistics.median(r["peak_mb"] for r in runs),
            "cpu_us_per_sample": statistics.median(1e6 * r["cpu_seconds"] / len(r["rewards"]) for r in runs),
            "isolation": runs[0]["isolation"],
        }
        for name, runs in rounds.items()
    }
    summary["pool"]["median_start_seconds"] = statistics.median(r["start"] for r in rounds["pool"])
    results = {
        "rounds": args.rounds,
        "workers": WORKERS,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "contenders": summary,
        "pool_vs_inprocess": rate("pool") / rate("inprocess"),
        "pool_vs_fresh": rate("pool") / rate("fresh"),
    }
    print(f"\n{'':28} {'samples':>8} {'median':>9} {'samples/s':>10} {'peak PSS':>9}")
    for name, label in (
        ("inprocess", "in-process, unsandboxed"),
        ("pool", "warm pool"),
        ("fresh", "fresh process per sample"),
    ):
        s = summary[name]
        figures = f"{s['median_seconds']:>8.3f}s {s['samples_per_second']:>10,.0f} {s['peak_mb']:>7.0f} MB"
        print(f"{label:28} {s['samples']:>8} {figures}")
    pool = summary["pool"]
    print(f"\nisolation: {pool['isolation']}; warm pool start {pool['median_start_seconds']:.2f} s")
    cpu = summary["inprocess"]["cpu_us_per_sample"], pool["cpu_us_per_sample"]
    print(f"CPU per sample: in-process {cpu[0]:.0f} us, warm pool {cpu[1]:.0f} us (parent and workers)")
    ratios = [i["seconds"] / p["seconds"] for i, p in zip(rounds["inprocess"], rounds["pool"], strict=True)]
    print(f"warm pool vs in-process, round by round: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"warm pool vs in-process: {results['pool_vs_inprocess']:.2f}x (goal >= 0.5x)")
    print(f"warm pool vs a fresh process per sample: {results['pool_vs_fresh']:.1f}x (goal >= 10x)")
    print(f"load average before/after: {load_before[0]:.2f} / {results['load_average_after'][0]:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    for runs in rounds.values():
        for run in runs:
            run.pop("rewards")
    results["runs"] = rounds
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Generation cost against spec size: 50, 200 and 500 extra schemas of 20 properties (scaling_spec.py).

For each size, every round runs, in turn:
  - `gradergen generate --lang all` and `--lang <each language>`, as commands (wall time);
  - datamodel-code-generator alone on the same spec file with gradergen's options, as a command (what
    a user of it alone would wait for: its import included);
  - one process that loads the spec once and times each language's step on its own (naming, templates,
    generation steps and formatting, in this process: the Python step is datamodel-code-generator plus
    what gradergen adds around it), and datamodel-code-generator's `generate` on the spec.
Figures are medians over the rounds. The goals: every language linear in the spec size, the other
languages together under 25% of the Python step, and `--lang all` at most 1.2x datamodel-code-generator
alone, at 500 schemas. Results are printed and written to bench/results/scaling.json.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scaling_spec import write_scaling_spec

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SIZES = (50, 200, 500)
LANGS = ("python", "go", "java", "ruby", "jsonschema")
GOAL_OTHERS_SHARE = 0.25
GOAL_RATIO_TO_DMCG = 1.2

DMCG_ALONE = """
import sys
from pathlib import Path
import datamodel_code_generator
from gradergen.emit.steps import DMCG_OPTIONS
datamodel_code_generator.generate(Path(sys.argv[1]), output=Path(sys.argv[2]), **DMCG_OPTIONS)
"""


def stages(spec: Path) -> dict[str, float]:
    """Seconds of each step, in this process (run as `bench_scaling.py --stages SPEC`)."""
    gc.disable()  # as `gradergen generate` does
    import datamodel_code_generator

    from gradergen.emit.render import format_files, prepare, render_templates, run_steps
    from gradergen.emit.steps import DMCG_OPTIONS, warm_up
    from gradergen.generate import load_ir
    from gradergen.options import Options

    warm_up()  # imports are not a step: the command overlaps them with the other languages
    times: dict[str, float] = {}
    started = time.perf_counter()
    ir = load_ir(spec)
    times["spec and IR"] = time.perf_counter() - started
    for lang in LANGS:
        started = time.perf_counter()
        prepared = prepare(lang, ir, Options())
        files = render_templates(prepared, ir)
        files.update(run_steps(lang, ir, Options()))
        format_files(prepared, files)
        times[lang] = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        datamodel_code_generator.generate(spec, output=Path(tmp, "models.py"), **DMCG_OPTIONS)
        times["datamodel-code-generator generate()"] = time.perf_counter() - started
    return times


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:4])} ... failed:\n{result.stderr[-4000:]}")
    return elapsed


def commands(spec: Path, work: Path) -> dict[str, list[str]]:
    gradergen = [str(BIN / "gradergen"), "generate", "--spec", str(spec), "-q"]
    out: dict[str, list[str]] = {"--lang all": [*gradergen, "--lang", "all", "--out", str(work / "all")]}
    for lang in LANGS:
        out[f"--lang {lang}"] = [*gradergen, "--lang", lang, "--out", str(work / lang)]
    out["datamodel-code-generator alone"] = [
        sys.executable,
        "-c",
        DMCG_ALONE,
        str(spec),
        str(work / "dmcg-models.py"),
    ]
    return out


def run_stages(spec: Path, work: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--stages", str(spec)], cwd=work, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"bench: the stage timing failed:\n{result.stderr[-4000:]}")
    times: dict[str, float] = json.loads(result.stdout)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (at least 5 for the reported figures)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--stages", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:
        print(json.dumps(stages(args.stages)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="gradergen-scaling-"))
    specs = {n: write_scaling_spec(n, work / f"scaling{n}.openapi.yaml") for n in args.sizes}
    wall: dict[int, dict[str, list[float]]] = {n: {} for n in args.sizes}
    steps: dict[int, dict[str, list[float]]] = {n: {} for n in args.sizes}
    try:
        for spec in specs.values():  # one unmeasured warm-up each (OS caches, compiled templates)
            for cmd in commands(spec, work).values():
                timed(cmd, work)
        for round_number in range(args.runs):
            for n, spec in specs.items():
                for name, cmd in commands(spec, work).items():
                    wall[n].setdefault(name, []).append(timed(cmd, work))
                for name, seconds in run_stages(spec, work).items():
                    steps[n].setdefault(name, []).append(seconds)
            summary = ", ".join(
                f"{n}: all {t['--lang all'][-1]:.2f}s, dmcg {t['datamodel-code-generator alone'][-1]:.2f}s"
                for n, t in wall.items()
            )
            print(f"round {round_number + 1}/{args.runs}: {summary}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = summarise(args.runs, wall, steps)
    print_table(result)
    out = ROOT / "bench" / "results" / "scaling.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


def summarise(
    runs: int, wall: dict[int, dict[str, list[float]]], steps: dict[int, dict[str, list[float]]]
) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for n in wall:
        command = {name: statistics.median(t) for name, t in wall[n].items()}
        step = {name: statistics.median(t) for name, t in steps[n].items()}
        others = sum(step[lang] for lang in LANGS if lang != "python")
        sizes[str(n)] = {
            "median_command_seconds": command,
            "median_step_seconds": step,
            "others_share_of_python_step": others / step["python"],
            "ratio_all_to_dmcg": command["--lang all"] / command["datamodel-code-generator alone"],
            "all_command_seconds": wall[n],
            "all_step_seconds": steps[n],
        }
    largest = str(max(wall))
    return {
        "runs": runs,
        "extra_schemas": [int(n) for n in sizes],
        "sizes": sizes,
        "goal_others_share_of_python_step": GOAL_OTHERS_SHARE,
        "goal_ratio_all_to_dmcg": GOAL_RATIO_TO_DMCG,
        "at": largest,
        "seconds_per_100_more_schemas": marginal(sizes),
    }


def marginal(sizes: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Seconds each 100 more schemas cost, between consecutive sizes: the same for each step if linear."""
    ordered = sorted(sizes, key=int)
    out: dict[str, dict[str, float]] = {}
    for small, large in itertools.pairwise(ordered):
        span = (int(large) - int(small)) / 100
        first, last = sizes[small]["median_step_seconds"], sizes[large]["median_step_seconds"]
        out[f"{small}-{large}"] = {name: (last[name] - first[name]) / span for name in first}
    return out


def print_table(result: dict[str, Any]) -> None:
    names = [*LANGS, "datamodel-code-generator generate()"]
    print(f"\nmedians over {result['runs']} alternating rounds; steps in one process, seconds:")
    print(f"{'extra schemas':>14} " + " ".join(f"{name[:10]:>10}" for name in names) + "  others/python")
    for n, figures in result["sizes"].items():
        step = figures["median_step_seconds"]
        share = figures["others_share_of_python_step"]
        print(f"{n:>14} " + " ".join(f"{step[name]:10.2f}" for name in names) + f"  {share:12.0%}")
    print("\ncommands, wall seconds:")
    columns = ["--lang all", "datamodel-code-generator alone", *(f"--lang {lang}" for lang in LANGS)]
    print(
        f"{'extra schemas':>14} "
        + " ".join(f"{c.removeprefix('--lang ')[:10]:>10}" for c in columns)
        + "  all/dmcg"
    )
    for n, figures in result["sizes"].items():
        command = figures["median_command_seconds"]
        ratio = figures["ratio_all_to_dmcg"]
        print(f"{n:>14} " + " ".join(f"{command[c]:10.2f}" for c in columns) + f"  {ratio:8.2f}x")
    at = result["sizes"][result["at"]]
    print(
        f"\nat {result['at']} schemas: others/python {at['others_share_of_python_step']:.0%} "
        f"(goal < {GOAL_OTHERS_SHARE:.0%}), --lang all / datamodel-code-generator alone "
        f"{at['ratio_all_to_dmcg']:.2f}x (goal <= {GOAL_RATIO_TO_DMCG}x)"
    )
    for span, per_100 in result["seconds_per_100_more_schemas"].items():
        print(
            f"seconds per 100 more schemas, {span}: " + ", ".join(f"{k} {v:.2f}" for k, v in per_100.items())
        )


if __name__ == "__main__":
    raise SystemExit(main())

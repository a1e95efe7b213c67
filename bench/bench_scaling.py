"""Generation cost against spec size: 50, 200 and 500 extra schemas of 20 properties (scaling_spec.py).

For each size, every round runs, in turn:
  - `gradergen generate --lang all` and datamodel-code-generator alone on the same spec file with
    gradergen's options, as commands back to back, their order alternating by round (wall time; what
    a user of datamodel-code-generator alone would wait for: its import included);
  - `gradergen generate --lang <each language>`, as commands;
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
import resource
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
LANGS = ("python", "go", "java", "ruby", "typescript", "jsonschema")
GOAL_OTHERS_SHARE = 0.25
GOAL_RATIO_TO_DMCG = 1.2

ALL = "--lang all"
DMCG_ALONE = "datamodel-code-generator alone"
DMCG_GENERATE = "datamodel-code-generator generate()"
DMCG_SCRIPT = """
import sys
from pathlib import Path
import datamodel_code_generator
from gradergen.languages import beside
options = beside("python", "models.py").DMCG_OPTIONS
datamodel_code_generator.generate(Path(sys.argv[1]), output=Path(sys.argv[2]), **options)
"""


def cpu_seconds() -> float:
    """CPU time of this process and of every child it has waited for (formatters, the worker)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


Sample = dict[str, float]
"""{"wall": seconds, "cpu": seconds}"""


class Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()

    def read(self) -> Sample:
        return {"wall": time.perf_counter() - self.wall, "cpu": cpu_seconds() - self.cpu}


def stages(spec: Path, python_last: bool = False) -> dict[str, Sample]:
    """Each step, in this process (run as `bench_scaling.py --stages SPEC`); the Python step first, or
    last (rounds alternate, so the machine's drift within the process weighs on both sides alike)."""
    gc.disable()  # as `gradergen generate` does
    import datamodel_code_generator

    from gradergen.emit.render import (
        format_files,
        naming_table,
        prepare,
        render_templates,
        run_steps,
        warm_up,
    )
    from gradergen.generate import load_ir
    from gradergen.languages import beside, load_manifest
    from gradergen.options import Options

    DMCG_OPTIONS = beside("python", "models.py").DMCG_OPTIONS
    # imports are not a step: the command overlaps datamodel-code-generator's with the other languages,
    # and an installed gradergen has its modules compiled (a checkout run with PYTHONDONTWRITEBYTECODE
    # would otherwise compile each language's modules inside its step)
    warm_up(["python"])
    for lang in LANGS:
        naming_table(load_manifest(lang).naming)
    import gradergen.validation.schema  # noqa: F401  (the JSON Schema step's)

    times: dict[str, Sample] = {}
    clock = Clock()
    ir = load_ir(spec)
    times["spec and IR"] = clock.read()
    for lang in sorted(LANGS, key=lambda lang: (lang == "python") == python_last):
        clock = Clock()
        prepared = prepare(lang, ir, Options())
        files = render_templates(prepared, ir)
        files.update(run_steps(prepared, ir, Options()))
        format_files(prepared, files)
        times[lang] = clock.read()
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        datamodel_code_generator.generate(spec, output=Path(tmp, "models.py"), **DMCG_OPTIONS)
        times[DMCG_GENERATE] = clock.read()
    return times


def timed(cmd: list[str], cwd: Path) -> Sample:
    clock = Clock()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    sample = clock.read()
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:4])} ... failed:\n{result.stderr[-4000:]}")
    return sample


def commands(spec: Path, work: Path) -> dict[str, list[str]]:
    gradergen = [str(BIN / "gradergen"), "generate", "--spec", str(spec), "-q"]
    out: dict[str, list[str]] = {ALL: [*gradergen, "--lang", "all", "--out", str(work / "all")]}
    for lang in LANGS:
        out[f"--lang {lang}"] = [*gradergen, "--lang", lang, "--out", str(work / lang)]
    out[DMCG_ALONE] = [sys.executable, "-c", DMCG_SCRIPT, str(spec), str(work / "dmcg-models.py")]
    return out


def in_round_order(cmds: dict[str, list[str]], round_number: int) -> list[tuple[str, list[str]]]:
    """`--lang all` and datamodel-code-generator alone first and back to back, which of them first
    alternating by round, so the machine's drift over a round (this VM's speed wanders by 10-15% over
    minutes) weighs on both alike; then each language's command."""
    pair = [ALL, DMCG_ALONE] if round_number % 2 == 0 else [DMCG_ALONE, ALL]
    return [(name, cmds[name]) for name in pair] + [(n, c) for n, c in cmds.items() if n not in pair]


def run_stages(spec: Path, work: Path, python_last: bool) -> dict[str, Sample]:
    order = ["--python-last"] if python_last else []
    result = subprocess.run(
        [sys.executable, __file__, "--stages", str(spec), *order], cwd=work, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"bench: the stage timing failed:\n{result.stderr[-4000:]}")
    times: dict[str, Sample] = json.loads(result.stdout)
    return times


Series = dict[int, dict[str, list[Sample]]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (at least 5 for the reported figures)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--stages", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--python-last", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:
        print(json.dumps(stages(args.stages, args.python_last)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="gradergen-scaling-"))
    specs = {n: write_scaling_spec(n, work / f"scaling{n}.openapi.yaml") for n in args.sizes}
    runs: Series = {n: {} for n in args.sizes}
    steps: Series = {n: {} for n in args.sizes}
    try:
        for spec in specs.values():  # one unmeasured warm-up each (OS caches, compiled templates)
            for cmd in commands(spec, work).values():
                timed(cmd, work)
        for round_number in range(args.runs):
            for n, spec in specs.items():
                for name, cmd in in_round_order(commands(spec, work), round_number):
                    runs[n].setdefault(name, []).append(timed(cmd, work))
                for name, sample in run_stages(spec, work, python_last=round_number % 2 == 1).items():
                    steps[n].setdefault(name, []).append(sample)
            summary = ", ".join(
                f"{n}: all {t[ALL][-1]['wall']:.2f}s, dmcg {t[DMCG_ALONE][-1]['wall']:.2f}s"
                for n, t in runs.items()
            )
            print(f"round {round_number + 1}/{args.runs}: {summary}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = summarise(args.runs, runs, steps)
    print_table(result)
    out = ROOT / "bench" / "results" / "scaling.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


def medians(samples: dict[str, list[Sample]], kind: str) -> dict[str, float]:
    return {name: statistics.median(s[kind] for s in series) for name, series in samples.items()}


def summarise(runs: int, commands_run: Series, steps: Series) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for n in commands_run:
        figures: dict[str, Any] = {}
        for kind in ("wall", "cpu"):
            command, step = medians(commands_run[n], kind), medians(steps[n], kind)
            others = sum(step[lang] for lang in LANGS if lang != "python")
            figures[kind] = {
                "median_command_seconds": command,
                "median_step_seconds": step,
                "others_share_of_python_step": others / step["python"],
                "ratio_all_to_dmcg": command[ALL] / command[DMCG_ALONE],
                # the two commands ran side by side in each round: the ratio of each round, and its median
                "round_ratios_all_to_dmcg": [
                    a[kind] / d[kind]
                    for a, d in zip(commands_run[n][ALL], commands_run[n][DMCG_ALONE], strict=True)
                ],
            }
            figures[kind]["median_round_ratio_all_to_dmcg"] = statistics.median(
                figures[kind]["round_ratios_all_to_dmcg"]
            )
            # the steps of a round ran in one process, one after another: the share of each round too
            figures[kind]["round_others_shares"] = [
                sum(r[lang][kind] for lang in LANGS if lang != "python") / r["python"][kind]
                for r in rounds_of(steps[n])
            ]
            figures[kind]["median_round_others_share"] = statistics.median(
                figures[kind]["round_others_shares"]
            )
        figures["samples"] = {"commands": commands_run[n], "steps": steps[n]}
        sizes[str(n)] = figures
    return {
        "runs": runs,
        "extra_schemas": [int(n) for n in sizes],
        "sizes": sizes,
        "goal_others_share_of_python_step": GOAL_OTHERS_SHARE,
        "goal_ratio_all_to_dmcg": GOAL_RATIO_TO_DMCG,
        "at": str(max(commands_run)),
        "wall_seconds_per_100_more_schemas": marginal(sizes),
    }


def rounds_of(series: dict[str, list[Sample]]) -> list[dict[str, Sample]]:
    """{step: [round 1, round 2, ...]} as [{step: round 1}, {step: round 2}, ...]."""
    return [dict(zip(series, samples, strict=True)) for samples in zip(*series.values(), strict=True)]


def marginal(sizes: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Seconds each 100 more schemas cost, between consecutive sizes: the same for each step if linear."""
    ordered = sorted(sizes, key=int)
    out: dict[str, dict[str, float]] = {}
    for small, large in itertools.pairwise(ordered):
        span = (int(large) - int(small)) / 100
        first = sizes[small]["wall"]["median_step_seconds"]
        last = sizes[large]["wall"]["median_step_seconds"]
        out[f"{small}-{large}"] = {name: (last[name] - first[name]) / span for name in first}
    return out


def print_table(result: dict[str, Any]) -> None:
    names = [*LANGS, DMCG_GENERATE]
    print(f"\nmedians over {result['runs']} alternating rounds")
    print("\neach step in one process, wall seconds (CPU seconds for the share):")
    print(
        f"{'extra schemas':>14} " + " ".join(f"{name[:10]:>10}" for name in names)
        + "  others/python  median of the rounds' shares"
    )  # fmt: skip
    for n, figures in result["sizes"].items():
        step = figures["wall"]["median_step_seconds"]
        share = figures["wall"]["others_share_of_python_step"]
        cpu_share = figures["cpu"]["others_share_of_python_step"]
        by_round = figures["wall"]["median_round_others_share"]
        row = " ".join(f"{step[name]:10.2f}" for name in names)
        print(f"{n:>14} {row}  {share:6.0%} ({cpu_share:.0%})  {by_round:.1%}")
    print("\ncommands, wall seconds (CPU seconds for the ratio):")
    columns = [ALL, DMCG_ALONE, *(f"--lang {lang}" for lang in LANGS)]
    heads = " ".join(f"{c.removeprefix('--lang ')[:10]:>10}" for c in columns)
    print(f"{'extra schemas':>14} {heads}  all/dmcg  median of the rounds' ratios")
    for n, figures in result["sizes"].items():
        command = figures["wall"]["median_command_seconds"]
        ratio, cpu_ratio = figures["wall"]["ratio_all_to_dmcg"], figures["cpu"]["ratio_all_to_dmcg"]
        by_round = figures["wall"]["median_round_ratio_all_to_dmcg"]
        row = " ".join(f"{command[c]:10.2f}" for c in columns)
        print(f"{n:>14} {row}  {ratio:.2f}x ({cpu_ratio:.2f}x)  {by_round:.2f}x")
    at = result["sizes"][result["at"]]
    print(
        f"\nat {result['at']} schemas: others/python {at['wall']['others_share_of_python_step']:.0%}, "
        f"by round {at['wall']['median_round_others_share']:.1%} "
        f"(goal < {GOAL_OTHERS_SHARE:.0%}), --lang all / datamodel-code-generator alone "
        f"{at['wall']['ratio_all_to_dmcg']:.2f}x, "
        f"by round {at['wall']['median_round_ratio_all_to_dmcg']:.2f}x "
        f"(goal <= {GOAL_RATIO_TO_DMCG}x)"
    )
    for span, per_100 in result["wall_seconds_per_100_more_schemas"].items():
        costs = ", ".join(f"{k} {v:.2f}" for k, v in per_100.items())
        print(f"seconds per 100 more schemas, {span}: {costs}")


if __name__ == "__main__":
    raise SystemExit(main())

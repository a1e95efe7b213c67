"""Validation speed: `gradergen validate` against a plain jsonschema loop, run side by side.

The input is a JSONL file of graders built here, deterministically: every grader type in realistic
sizes (prompts of a few hundred to a few thousand characters, python sources of 5 to 40 lines, multi
graders of two to four sub-graders), 5% of them broken in one of the documented ways.

Contenders, on the same file:
  - jsonschema: the file read, each line parsed with json.loads and checked with a compiled
    Draft202012Validator over the same schema (`gradergen schema`), collecting every error;
  - library: gradergen.validate_text on the file's text: the schema, the semantic checks, and a
    located report for every problem;
  - cli: `gradergen validate FILE --format json`, end to end, process start included.

Then, on its own: how long the library takes to locate 100,000 problems in one document (a grader
with 100,000 unknown properties, as JSON and as YAML).

Each round runs every contender once, in turn, so that machine noise falls on all of them; the
figures are medians over the rounds. Results are printed and written to bench/results/validate.json.
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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "validate.json"

# --------------------------------------------------------------------------- the corpus
WORDS = (
    "answer reference score rubric policy customer order ticket refund invoice summary question context "
    "evidence claim source citation label category intent entity date amount email address product "
    "review sentiment tone accuracy helpfulness safety format length clarity step reasoning"
).split()
OPERATIONS = ["eq", "ne", "like", "ilike"]
METRICS = ["cosine", "fuzzy_match", "bleu", "gleu", "meteor", "rouge_1", "rouge_2", "rouge_l"]
MODELS = ["gpt-4o-2024-08-06", "gpt-4.1-mini", "o3-mini", "gpt-5-mini"]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def paragraph(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    while sum(len(s) + 1 for s in out) < chars:
        out.append(sentence(rng, rng.randint(6, 16)))
    return " ".join(out)


def template(rng: random.Random) -> str:
    return rng.choice(
        [
            "{{ sample.output_text }}",
            "{{sample.output_json." + rng.choice(WORDS) + "}}",
            "{{ item." + rng.choice(WORDS) + " }}",
            "{{ item." + rng.choice(WORDS) + "." + rng.choice(WORDS) + " }}",
            "{{ sample.output_tools[0].function.arguments }}",
        ]
    )


def python_source(rng: random.Random) -> str:
    key, ref = rng.choice(WORDS), rng.choice(WORDS)
    helpers = [
        f"def _clean_{i}(text):\n    return ' '.join(str(text).lower().split())\n"
        for i in range(rng.randint(0, 3))
    ]
    checks = "\n".join(
        f"    if '{rng.choice(WORDS)}' in output:\n        score += {rng.randint(1, 9) / 20}"
        for _ in range(rng.randint(1, 8))
    )
    return (
        "import json\nimport re\n\n" + "\n".join(helpers) + f"\n\ndef grade(sample, item):\n"
        f'    """Score the {key} against the {ref}."""\n'
        f"    output = sample.get('output_text', '')\n"
        f"    expected = str(item.get('{ref}', ''))\n"
        f"    if not output:\n        return 0.0\n"
        f"    score = 0.0\n{checks}\n"
        f"    if expected and expected.lower() in output.lower():\n        score += 0.5\n"
        f"    return max(0.0, min(1.0, score))\n"
    )


def messages(rng: random.Random) -> list[dict[str, Any]]:
    system = {
        "role": "system",
        "content": "You are a strict grader. " + paragraph(rng, rng.randint(200, 2500)),
    }
    parts: list[Any] = [
        {"type": "input_text", "text": f"Reference: {template(rng)}\nAnswer: {{{{sample.output_text}}}}"}
    ]
    if rng.random() < 0.2:
        parts.append(
            {
                "type": "input_image",
                "image_url": "{{ item.image_url }}",
                "detail": rng.choice(["low", "high"]),
            }
        )
    if rng.random() < 0.1:
        parts.append({"type": "input_audio", "input_audio": {"data": "{{ item.audio }}", "format": "mp3"}})
    user: dict[str, Any] = {"role": "user", "content": parts}
    if rng.random() < 0.4:
        user = {"role": "user", "content": f"Grade this: {template(rng)}", "type": "message"}
    return [system, user]


def grader(rng: random.Random, kind: str, name: str) -> dict[str, Any]:
    if kind == "string_check":
        return {
            "type": kind,
            "name": name,
            "input": template(rng),
            "reference": template(rng),
            "operation": rng.choice(OPERATIONS),
        }
    if kind == "text_similarity":
        return {
            "type": kind,
            "name": name,
            "input": template(rng),
            "reference": template(rng),
            "evaluation_metric": rng.choice(METRICS),
        }
    if kind == "python":
        out = {"type": kind, "name": name, "source": python_source(rng)}
        if rng.random() < 0.5:
            out["image_tag"] = "2025-05-08"
        return out
    if kind == "score_model":
        out = {"type": kind, "name": name, "model": rng.choice(MODELS), "input": messages(rng)}
        if rng.random() < 0.5:
            out["range"] = rng.choice([[0, 1], [1, 7], [0, 5], [0, 10]])
        if rng.random() < 0.6:
            out["sampling_params"] = {
                "temperature": rng.choice([0, 0.2, 1]),
                "seed": rng.randint(1, 999),
                "reasoning_effort": rng.choice(["low", "medium", "high"]),
            }
        return out
    if kind == "label_model":
        labels = rng.sample(WORDS, rng.randint(2, 5))
        return {
            "type": kind,
            "name": name,
            "model": rng.choice(MODELS),
            "input": messages(rng),
            "labels": labels,
            "passing_labels": labels[: rng.randint(1, len(labels))],
        }
    keys = [f"{w}_{i}" for i, w in enumerate(rng.sample(WORDS, rng.randint(2, 4)))]
    kinds = ["string_check", "text_similarity", "python", "score_model", "label_model"]
    graders = {k: grader(rng, rng.choice(kinds), k) for k in keys}
    formula = rng.choice(
        [
            "(" + " + ".join(keys) + f") / {len(keys)}",
            f"max({keys[0]}, {keys[1]}) * 0.5 + min({', '.join(keys)}) ^ 2",
            " + ".join(f"{rng.randint(1, 9) / 10} * {k}" for k in keys),
            f"sqrt(abs({keys[0]} - {keys[1]})) + " + " + ".join(keys[2:] or ["0"]),
        ]
    )
    return {"type": "multi", "name": name, "graders": graders, "calculate_output": formula}


def break_grader(rng: random.Random, g: dict[str, Any]) -> dict[str, Any]:
    """One documented mistake."""
    kind = g["type"]
    choices: list[Callable[[], None]] = [
        lambda: g.pop("name"),
        lambda: g.update(name=rng.randint(1, 9)),
        lambda: g.update(type=kind.replace("_", "-")),
    ]
    if kind == "string_check":
        choices += [lambda: g.update(operation="neq"), lambda: g.update(input="{{ items.answer }}")]
    if kind == "text_similarity":
        choices += [
            lambda: g.update(evaluation_metric="rouge-l"),
            lambda: g.update(reference="{{ sample.output"),
        ]
    if kind == "python":
        choices += [
            lambda: g.update(source=g["source"].replace("def grade(sample, item)", "def grade(sample)")),
            lambda: g.update(source=g["source"].replace("return 0.0", "return 0.0 +")),
        ]
    if kind == "score_model":
        choices += [lambda: g.update(range=[5, 1]), lambda: g["input"][0].update(role="judge")]
    if kind == "multi":
        first = next(iter(g["graders"]))
        choices += [
            lambda: g.update(calculate_output=g["calculate_output"] + " + missing"),
            lambda: g.update(graders=list(g["graders"].values())),
            lambda: g["graders"][first].update(type="multi"),
        ]
    rng.choice(choices)()
    return g


def corpus(count: int, seed: int = 6) -> list[str]:
    rng = random.Random(seed)
    kinds = ["string_check", "text_similarity", "python", "score_model", "multi"]
    lines = []
    for i in range(count):
        g = grader(rng, kinds[i % len(kinds)], f"grader {i}")
        if rng.random() < 0.05:
            g = break_grader(rng, g)
        lines.append(json.dumps(g))
    return lines


# --------------------------------------------------------------------------- the contenders
def plain_jsonschema(path: Path, schema: dict[str, Any]) -> int:
    """The invalid documents found by a compiled Draft202012Validator, every error collected."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    invalid = 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            if list(validator.iter_errors(json.loads(line))):
                invalid += 1
    return invalid


def library(path: Path, jobs: int) -> int:
    """The invalid documents gradergen.validate_text finds, each problem located."""
    import gradergen

    problems = gradergen.validate_text(path.read_text(encoding="utf-8"), name=str(path), jobs=jobs)
    return len({p.line for p in problems if p.severity == "error"})


def cli(path: Path) -> int:
    result = subprocess.run(
        [str(BIN / "gradergen"), "validate", str(path), "--format", "json"], capture_output=True, text=True
    )
    if result.returncode not in (0, 1):
        sys.exit(f"bench: gradergen validate failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return len({p["line"] for p in json.loads(result.stdout)["problems"] if p["severity"] == "error"})


def many_keys(count: int, fmt: str) -> str:
    """A grader with `count` unknown properties, one per line: as many problems to locate."""
    grader = {"type": "string_check", "name": "n", "input": "a", "reference": "b", "operation": "eq"}
    grader.update({f"k{i}": i for i in range(count)})
    if fmt == "json":
        return json.dumps(grader, indent=0)
    return "".join(f"{key}: {json.dumps(value)}\n" for key, value in grader.items())


def locating(rounds: int, count: int = 100_000) -> dict[str, float]:
    """Median seconds of gradergen.validate_text on a document with `count` problems, JSON and YAML."""
    import gradergen

    out: dict[str, float] = {}
    for fmt in ("json", "yaml"):
        text = many_keys(count, fmt)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            found = len(gradergen.validate_text(text, name=f"many.{fmt}"))
            times.append(time.perf_counter() - started)
        assert found == count, found
        out[fmt] = statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="graders in the file (default 100000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, at least 5 (default 5)")
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error("--rounds must be at least 5: the figures are medians")
    import gradergen
    from gradergen.validation.parallel import cpu_count

    schema = gradergen.grader_schema()
    gradergen.validate({"type": "python", "name": "warm", "source": "def grade(s, i): pass"})
    with tempfile.TemporaryDirectory(prefix="gradergen-bench-") as tmp:
        path = Path(tmp) / "graders.jsonl"
        started = time.perf_counter()
        path.write_text("\n".join(corpus(args.count)) + "\n", encoding="utf-8")
        size = path.stat().st_size
        built = time.perf_counter() - started
        print(f"{args.count} graders, {size / 1e6:.1f} MB, built in {built:.1f} s", flush=True)
        print(f"{cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}", flush=True)
        contenders: dict[str, Callable[[], int]] = {
            "jsonschema": lambda: plain_jsonschema(path, schema),
            "library": lambda: library(path, jobs=1),
            "library_all_cpus": lambda: library(path, jobs=0),
            "cli": lambda: cli(path),
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        invalid: dict[str, int] = {}
        for r in range(args.rounds):
            for name, run in contenders.items():
                started = time.perf_counter()
                invalid[name] = run()
                times[name].append(time.perf_counter() - started)
            print(f"round {r + 1}: " + ", ".join(f"{n} {t[-1]:.2f} s" for n, t in times.items()), flush=True)
    located = locating(args.rounds)
    median = {name: statistics.median(t) for name, t in times.items()}
    rate = {name: args.count / m for name, m in median.items()}
    ratio = {name: rate[name] / rate["jsonschema"] for name in contenders if name != "jsonschema"}
    results = {
        "graders": args.count,
        "bytes": size,
        "rounds": args.rounds,
        "cpus": cpu_count(),
        "python": sys.version.split()[0],
        "invalid_documents_found": invalid,
        "seconds_median": median,
        "seconds_per_round": times,
        "graders_per_second": rate,
        "ratio_to_jsonschema": ratio,
        "locating_100000_problems_seconds_median": located,
    }
    print()
    for name in contenders:
        versus = f"  {ratio[name]:5.1f}x jsonschema" if name in ratio else ""
        print(f"{name:>17}: {rate[name]:>9,.0f} graders/s  (median {median[name]:6.2f} s){versus}")
    print(f"one document with 100,000 problems: JSON {located['json']:.2f} s, YAML {located['yaml']:.2f} s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""text_similarity throughput: the engine against plain loops over the same library functions.

For each metric, 10,000 (input, reference) pairs built here, deterministically: English sentences of 5
to 60 words with punctuation and numbers; each input an edit of its reference (words dropped, replaced,
inserted, reordered), so that the scores spread over 0..1.

Contenders, each on the same pairs:
  - plain: a Python loop calling the library as the engine is pinned to call it — `fuzz.ratio(a, b) /
    100`; nltk's sentence_bleu / sentence_gleu / meteor_score on `word_tokenize(preserve_line=True)`
    tokens; rouge-score-rs `RougeScorer([type]).score(reference, input)[type].fmeasure`;
  - rouge-score (rouge metrics only): the same loop with rouge-score 0.1.2, the reference
    implementation;
  - engine: `compile_grader(text_similarity grader).grade_many(samples, items)`, templates
    `{{ sample.output_text }}` and `{{ item.reference }}`: every pair rendered and scored, its flags
    known, the rewards read — what an RL trainer or a batch summary uses; each GraderRunResponse is
    built only when it is read;
  - engine responses: `run_many`, the same with a GraderRunResponse built for every pair;
  - engine scores: the engine's metric alone, `Metric.score_many(inputs, references)`, to show what the
    responses cost.

Every contender runs in a process of its own: imports and a warm-up (WordNet's loading included) come
first and are not timed; then the peak resident memory is reset (/proc/self/clear_refs) and the 10,000
pairs are scored (wall time; the process's CPU time is recorded too). Memory is the process's peak
during the timed part, and its growth over the start of it. Each round runs every contender once, in
turn, so that machine noise falls on all of them; figures are medians over the rounds. The engine's
scores must equal the plain loop's (exactly) and rouge-score's (to 1e-12), or the benchmark fails.
Results go to bench/results/text_similarity.json.
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
RESULTS = ROOT / "bench" / "results" / "text_similarity.json"
METRICS = [
    "fuzzy_match",
    "bleu",
    "gleu",
    "meteor",
    "rouge_1",
    "rouge_2",
    "rouge_3",
    "rouge_4",
    "rouge_5",
    "rouge_l",
]
ROUGE_TYPES = {"rouge_1": "rouge1", "rouge_2": "rouge2", "rouge_3": "rouge3", "rouge_4": "rouge4",
               "rouge_5": "rouge5", "rouge_l": "rougeL"}  # fmt: skip

# --------------------------------------------------------------------------- the pairs
WORDS = (
    "the a of and to in is was for on that with as by at from it an be this are or not his her they we "
    "model answer question reference score grader reward sample output text result value policy training "
    "Marie Curie Warsaw Paris radium polonium Nobel prize physics chemistry born died studied worked "
    "discovered element university laboratory research paper theory experiment measured energy light "
    "running runs ran quickly slowly large small first second third final total average report summary "
    "customer order ticket refund invoice product review shipping delivery account payment support team"
).split()
NUMBERS = ["1867", "1934", "3.14", "1,000", "42", "2nd", "10%", "$5"]
PUNCTUATION = [",", ".", ";", ":", "!", "?", "(", ")", "'s", "-"]


def sentence(rng: random.Random, words: int) -> list[str]:
    out: list[str] = []
    for _ in range(words):
        roll = rng.random()
        out.append(rng.choice(NUMBERS) if roll < 0.05 else rng.choice(WORDS))
        if rng.random() < 0.08:
            out.append(rng.choice(PUNCTUATION))
    out[0] = out[0].capitalize()
    return out


def edit(rng: random.Random, words: list[str]) -> list[str]:
    out = [w for w in words if rng.random() > 0.15]
    for _ in range(rng.randint(0, 4)):
        out.insert(rng.randint(0, len(out)), rng.choice(WORDS))
    for i in range(len(out)):
        if rng.random() < 0.1:
            out[i] = rng.choice(WORDS)
    if rng.random() < 0.2 and len(out) > 3:
        i = rng.randint(0, len(out) - 3)
        out[i : i + 3] = reversed(out[i : i + 3])
    return out or ["empty"]


def pairs(count: int, seed: int = 10) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        reference = sentence(rng, rng.randint(5, 60))
        out.append((" ".join(edit(rng, reference)) + ".", " ".join(reference) + "."))
    return out


# --------------------------------------------------------------------------- the contenders (in a worker)
def _tokenize() -> Callable[[str], list[str]]:
    import nltk

    return lambda text: nltk.word_tokenize(text, preserve_line=True)


def plain(metric: str) -> Callable[[list[str], list[str]], list[float]]:
    """The library called directly in a loop, as the engine is pinned to call it."""
    if metric == "fuzzy_match":
        from rapidfuzz import fuzz

        ratio = fuzz.ratio
        return lambda given, refs: [ratio(a, b) / 100 for a, b in zip(given, refs, strict=True)]
    if metric in ROUGE_TYPES:
        from rouge_score_rs import RougeScorer

        kind = ROUGE_TYPES[metric]
        scorer = RougeScorer([kind], use_stemmer=False)
        return lambda given, refs: [
            scorer.score(r, g)[kind].fmeasure for g, r in zip(given, refs, strict=True)
        ]
    tokenize = _tokenize()
    if metric == "bleu":
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

        smoothing = SmoothingFunction().method4
        return lambda given, refs: [
            float(sentence_bleu([tokenize(r)], tokenize(g), smoothing_function=smoothing))
            for g, r in zip(given, refs, strict=True)
        ]
    if metric == "gleu":
        from nltk.translate.gleu_score import sentence_gleu

        return lambda given, refs: [
            sentence_gleu([tokenize(r)], tokenize(g)) for g, r in zip(given, refs, strict=True)
        ]
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    from nltk.translate.meteor_score import meteor_score

    from gradergen.engine.metrics import wordnet

    root = wordnet.find_root()
    if root is None:
        sys.exit(wordnet.missing_message())
    nltk.data.path.insert(0, str(root))
    reader = WordNetCorpusReader(nltk.data.find("corpora/wordnet"), None)
    return lambda given, refs: [
        meteor_score([tokenize(r)], tokenize(g), wordnet=reader, alpha=0.9, beta=3.0, gamma=0.5)
        for g, r in zip(given, refs, strict=True)
    ]


def rouge_score_loop(metric: str) -> Callable[[list[str], list[str]], list[float]]:
    from rouge_score import rouge_scorer

    kind = ROUGE_TYPES[metric]
    scorer = rouge_scorer.RougeScorer([kind], use_stemmer=False)
    return lambda given, refs: [scorer.score(r, g)[kind].fmeasure for g, r in zip(given, refs, strict=True)]


def engine(metric: str) -> Callable[[list[str], list[str]], list[float]]:
    from gradergen.engine import compile_grader

    grader = compile_grader(
        {"type": "text_similarity", "name": "similarity", "input": "{{ sample.output_text }}",
         "reference": "{{ item.reference }}", "evaluation_metric": metric}
    )  # fmt: skip

    def run(given: list[str], refs: list[str]) -> list[float]:
        return grader.grade_many(given, [{"reference": r} for r in refs]).rewards

    return run


def engine_responses(metric: str) -> Callable[[list[str], list[str]], list[float]]:
    from gradergen.engine import compile_grader

    grader = compile_grader(
        {"type": "text_similarity", "name": "similarity", "input": "{{ sample.output_text }}",
         "reference": "{{ item.reference }}", "evaluation_metric": metric}
    )  # fmt: skip

    def run(given: list[str], refs: list[str]) -> list[float]:
        responses = grader.run_many(given, [{"reference": r} for r in refs])
        return [r.reward for r in responses]

    return run


def engine_scores(metric: str) -> Callable[[list[str], list[str]], list[float]]:
    from gradergen.engine import EngineConfig
    from gradergen.engine.metrics import build_metric

    return build_metric(metric, EngineConfig()).score_many


CONTENDERS: dict[str, Callable[[str], Callable[[list[str], list[str]], list[float]]]] = {
    "plain": plain,
    "rouge-score": rouge_score_loop,
    "engine": engine,
    "engine responses": engine_responses,
    "engine scores": engine_scores,
}


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def worker(contender: str, metric: str, data: Path, scores_out: Path) -> None:
    loaded = json.loads(data.read_text(encoding="utf-8"))
    given, refs = [p[0] for p in loaded], [p[1] for p in loaded]
    score = CONTENDERS[contender](metric)
    score(given[:200], refs[:200])  # warm-up: lazy loads, first-call costs
    Path("/proc/self/clear_refs").write_text("5")  # the peak RSS starts again from here
    before = _status("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    scores = score(given, refs)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak = _status("VmHWM")
    scores_out.write_text(json.dumps(scores), encoding="utf-8")
    print(
        json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss": peak, "rss_before": before})
    )


# --------------------------------------------------------------------------- the rounds
def run_worker(contender: str, metric: str, data: Path, scores_out: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", contender, metric, str(data), str(scores_out)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        sys.exit(f"bench: {contender} on {metric} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def ensure_wordnet(tmp: Path) -> None:
    """METEOR's WordNet: the one the engine finds, else one built for this run."""
    from gradergen.engine.metrics import wordnet

    if wordnet.find_root() is None:
        root = tmp / "nltk_data"
        wordnet.build(wordnet.DEBIAN_SOURCE, root)
        os.environ[wordnet.ENV_ROOT] = str(root)


def contenders_of(metric: str) -> list[str]:
    names = ["plain", "engine", "engine responses", "engine scores"]
    return [*names, "rouge-score"] if metric in ROUGE_TYPES else names


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=10_000, help="pairs per metric (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, at least 3 (default 5)")
    parser.add_argument(
        "--metrics", default=",".join(METRICS), help="comma-separated (default: all but cosine)"
    )
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        contender, metric, data, scores_out = args.worker
        worker(contender, metric, Path(data), Path(scores_out))
        return
    if args.rounds < 3:
        parser.error("--rounds must be at least 3: the figures are medians")
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        parser.error(f"unknown metrics {unknown}: choose from {', '.join(METRICS)}")
    print(f"{args.pairs} pairs per metric, {args.rounds} rounds, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    results: dict[str, Any] = {"pairs": args.pairs, "rounds": args.rounds, "cpus": os.cpu_count(),
                               "python": sys.version.split()[0], "metrics": {}}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="gradergen-bench-") as tmp:
        if "meteor" in metrics:
            ensure_wordnet(Path(tmp))
        data = Path(tmp) / "pairs.json"
        data.write_text(json.dumps(pairs(args.pairs)), encoding="utf-8")
        for metric in metrics:
            names = contenders_of(metric)
            runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
            scores: dict[str, list[float]] = {}
            for r in range(args.rounds):
                for name in names if r % 2 == 0 else reversed(names):
                    out = Path(tmp) / f"{metric}-{name}.json"
                    runs[name].append(run_worker(name, metric, data, out))
                    scores[name] = json.loads(out.read_text(encoding="utf-8"))
                line = ", ".join(f"{n} {runs[n][-1]['seconds']:.3f} s" for n in names)
                print(f"{metric} round {r + 1}: {line}", flush=True)
            results["metrics"][metric] = summarise(metric, args.pairs, runs, scores)
    print()
    report(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")


def summarise(
    metric: str, count: int, runs: dict[str, list[dict[str, Any]]], scores: dict[str, list[float]]
) -> dict[str, Any]:
    if any(scores[c] != scores["plain"] for c in ("engine", "engine responses", "engine scores")):
        worst = max(abs(a - b) for a, b in zip(scores["engine"], scores["plain"], strict=True))
        sys.exit(f"bench: {metric}: the engine's scores differ from the plain loop's (by up to {worst})")
    out: dict[str, Any] = {"contenders": {}}
    for name, measured in runs.items():
        seconds = statistics.median(m["seconds"] for m in measured)
        out["contenders"][name] = {
            "seconds_median": seconds,
            "pairs_per_second": count / seconds,
            "peak_rss_mb": statistics.median(m["peak_rss"] for m in measured) / 2**20,
            "rss_growth_mb": statistics.median(m["peak_rss"] - m["rss_before"] for m in measured) / 2**20,
            "cpu_seconds_median": statistics.median(m["cpu_seconds"] for m in measured),
            "seconds_per_round": [m["seconds"] for m in measured],
        }
    plain_rate = out["contenders"]["plain"]["pairs_per_second"]
    out["engine_vs_plain"] = out["contenders"]["engine"]["pairs_per_second"] / plain_rate
    out["engine_scores_vs_plain"] = out["contenders"]["engine scores"]["pairs_per_second"] / plain_rate
    out["engine_responses_vs_plain"] = out["contenders"]["engine responses"]["pairs_per_second"] / plain_rate
    if "rouge-score" in runs:
        worst = max(abs(a - b) for a, b in zip(scores["engine"], scores["rouge-score"], strict=True))
        if worst > 1e-12:
            sys.exit(f"bench: {metric}: the engine's scores differ from rouge-score's by up to {worst}")
        out["engine_vs_rouge_score"] = (
            out["contenders"]["engine"]["pairs_per_second"]
            / out["contenders"]["rouge-score"]["pairs_per_second"]
        )
        out["max_difference_from_rouge_score"] = worst
    return out


def report(results: dict[str, Any]) -> None:
    print(f"{'metric':<12}{'contender':<18}{'pairs/s':>11}{'median s':>10}{'peak MB':>9}{'growth MB':>11}")
    for metric, found in results["metrics"].items():
        for name, c in found["contenders"].items():
            print(f"{metric:<12}{name:<18}{c['pairs_per_second']:>11,.0f}{c['seconds_median']:>10.3f}"
                  f"{c['peak_rss_mb']:>9.0f}{c['rss_growth_mb']:>11.1f}")  # fmt: skip
        line = f"  engine {found['engine_vs_plain']:.2f}x plain"
        line += f" (with every response built {found['engine_responses_vs_plain']:.2f}x,"
        line += f" scores alone {found['engine_scores_vs_plain']:.2f}x)"
        if "engine_vs_rouge_score" in found:
            line += f", {found['engine_vs_rouge_score']:.1f}x rouge-score"
        print(line)


if __name__ == "__main__":
    main()

"""Generation speed: `gradergen generate --lang all` against its peers, run side by side.

Peers, on the same spec:
  - datamodel-code-generator alone, writing the Python models only (what gradergen wraps);
  - openapi-generator-cli (from Maven Central) writing python, go, java and ruby clients.

Each round runs every contender once, in turn, so that machine noise falls on all of them; the
figures are medians over the rounds. Results are printed and written to bench/results/generate.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "graders.openapi.yaml"
BIN = Path(sys.executable).parent
OPENAPI_GENERATOR = "org.openapitools:openapi-generator-cli:7.17.0"
OPENAPI_GENERATOR_LANGS = ["python", "go", "java", "ruby"]


def openapi_generator_jar() -> Path:
    """The jar from the local Maven repository, fetched from Maven Central on first use."""
    group, artifact, version = OPENAPI_GENERATOR.split(":")
    jar = (
        Path.home()
        / ".m2/repository"
        / group.replace(".", "/")
        / artifact
        / version
        / f"{artifact}-{version}.jar"
    )
    if not jar.is_file():
        print(f"fetching {OPENAPI_GENERATOR} from Maven Central ...", flush=True)
        subprocess.run(
            ["mvn", "-q", "-B", "dependency:get", f"-Dartifact={OPENAPI_GENERATOR}", "-Dtransitive=false"],
            check=True,
        )
    return jar


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:3])} ... failed:\n{result.stderr[-4000:]}")
    return elapsed


def contenders(work: Path, jar: Path) -> dict[str, list[list[str]]]:
    dmcg = [
        str(BIN / "datamodel-codegen"),
        "--input",
        str(SPEC),
        "--input-file-type",
        "openapi",
        "--output",
        str(work / "dmcg" / "models.py"),
        "--output-model-type",
        "pydantic_v2.BaseModel",
        "--target-python-version",
        "3.10",
        "--use-annotated",
        "--use-union-operator",
        "--use-standard-collections",
        "--use-type-alias",
        "--enum-field-as-literal",
        "all",
        "--field-constraints",
        "--extra-fields",
        "allow",
        "--use-schema-description",
        "--use-field-description",
        "--use-double-quotes",
        "--disable-timestamp",
        "--formatters",
        "black",
        "isort",
    ]
    return {
        "gradergen (all languages)": [
            [str(BIN / "gradergen"), "generate", "--lang", "all", "--out", str(work / "ours"), "-q"]
        ],
        "datamodel-code-generator (Python models)": [dmcg],
        "openapi-generator-cli (python, go, java, ruby)": [
            [
                "java",
                "-jar",
                str(jar),
                "generate",
                "-i",
                str(SPEC),
                "-g",
                lang,
                "-o",
                str(work / "oag" / lang),
                "--skip-validate-spec",
            ]
            for lang in OPENAPI_GENERATOR_LANGS
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (at least 5 for the reported figures)")
    parser.add_argument("--no-openapi-generator", action="store_true", help="skip the JVM peer")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gradergen-bench-"))
    (work / "dmcg").mkdir()
    jar = Path("/nonexistent") if args.no_openapi_generator else openapi_generator_jar()
    runs = contenders(work, jar)
    if args.no_openapi_generator:
        runs = {k: v for k, v in runs.items() if not k.startswith("openapi")}
    times: dict[str, list[float]] = {name: [] for name in runs}
    try:
        for commands in runs.values():  # one unmeasured warm-up each (OS caches, pyc files)
            for cmd in commands:
                timed(cmd, work)
        for round_number in range(args.runs):
            for name, commands in runs.items():
                times[name].append(sum(timed(cmd, work) for cmd in commands))
            print(
                f"round {round_number + 1}/{args.runs}: "
                + ", ".join(f"{t[-1]:.2f}s" for t in times.values()),
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    medians = {name: statistics.median(t) for name, t in times.items()}
    ours = medians["gradergen (all languages)"]
    print(f"\nmedian wall time over {args.runs} alternating rounds:")
    for name, median in medians.items():
        print(f"  {name:<48} {median:6.2f} s   (gradergen / this = {ours / median:.2f}x)")
    result = {
        "runs": args.runs,
        "median_seconds": medians,
        "all_seconds": times,
        "ratio_to_dmcg": ours / medians["datamodel-code-generator (Python models)"],
        "goal_ratio_to_dmcg": 1.5,
    }
    if "openapi-generator-cli (python, go, java, ruby)" in medians:
        result["ratio_to_openapi_generator"] = (
            ours / medians["openapi-generator-cli (python, go, java, ruby)"]
        )
        result["goal_ratio_to_openapi_generator"] = 0.1
    out = ROOT / "bench" / "results" / "generate.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nratio to datamodel-code-generator: {result['ratio_to_dmcg']:.2f}x (goal <= 1.5x)")
    if "ratio_to_openapi_generator" in result:
        print(
            f"ratio to openapi-generator-cli:    {result['ratio_to_openapi_generator']:.3f}x (goal <= 0.1x)"
        )
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

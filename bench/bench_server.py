"""The graders server under load: `gradergen serve` driven by wrk, 64 connections, on this machine's cores.

Scenarios, each a POST with a Lua script (bench/server_wrk.lua) that cycles through prepared bodies:
  - validate: `/validate` of a realistic grader, a multi grader of four (a score_model judge with a
    system prompt of about 1,500 characters and templates, the python grader below, a
    text_similarity and a string_check) — every request a grader of its own (the Lua script numbers
    each one's name), so the server's cache of compiled graders never answers for the validator;
  - run_string_check: `/run` of a string_check grader over 1,000 (sample, item) pairs;
  - run_python: `/run` of the python graders benchmark's grader (a regex and rapidfuzz) over its
    samples, through the server's warm sandbox pool; and beside it, the peer: the engine called in
    process (`compile_grader(...).arun`, 64 tasks at once, the same pool settings, the same samples),
    reported as requests/s and p99 in the same round;
  - validate_at_goal, run_string_check_at_goal: the same two held near their goals' rates, each of the
    64 connections pausing after every answer (64 ÷ pause ≈ the goal's rate and a tenth more), for
    the latency at that load; the figures above are at saturation, where 64 connections in a closed
    loop make the tail as long as the queue they form, so it grows as the machine slows;
  - http_floor: the run_python bodies sent to bench/asgi_floor.py, an app that answers each with a
    constant under the same uvicorn settings: HTTP alone. From it, the ceiling of run_python against
    the peer: a server whose requests cost the floor's HTTP plus the engine's own call, nothing else,
    would reach floor / (floor + peer) in requests/s, each figure a rate.

Before the load, every scenario's bodies are checked: each answer 200, string_check rewards as the
samples say, python rewards equal to the in-process engine's. wrk's own errors (connect, read, write,
timeouts, any status over 399) must be zero, or the figures are refused. Each round runs every
scenario once, in turn; the figures are medians over the rounds. Results are printed and written to
bench/results/server.json.

Beside each wall-clock figure, the CPU time the server's processes (its workers and their sandboxes)
spent per request, and the peer's (its process and its sandboxes): on a machine shared with other
work, requests/s and the latency tail say how busy the machine was as much as how costly a request
is; the CPU per request says the second alone. The load average before and after is recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "server.json"
LUA = Path(__file__).resolve().parent / "server_wrk.lua"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_python_graders import GRADER as PYTHON_SOURCE  # noqa: E402
from bench_python_graders import samples as python_samples  # noqa: E402

CONNECTIONS = 64
VALIDATE = "/v1/fine_tuning/alpha/graders/validate"
RUN = "/v1/fine_tuning/alpha/graders/run"
FLOOR = "http_floor"
GOALS = {
    "validate": {"requests_per_second": 2000, "p99_ms": 20},
    "run_string_check": {"requests_per_second": 1500, "p99_ms": 20},
    "run_python": {"vs_in_process": 0.7},
}
BODIES = 1000
AT_GOAL = "_at_goal"
"""The suffix of a scenario held near its goal's rate (see `pause_ms`)."""
PACED = ("validate", "run_string_check")
"""The scenarios with a rate for a goal, run again near that rate."""
PAUSE_VARIABLE = "GRADERGEN_WRK_PAUSE_MS"
"""How server_wrk.lua is told the pause after each answer."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FIGURES = ("requests_per_second", "p50_ms", "p90_ms", "p99_ms", "cpu_ms_per_request")
UNIQUE = "__N__"
"""A mark server_wrk.lua replaces in each request with a number of its own."""
API_KEY = "sk-bench"  # the server is started without a key, so any token passes; sent as SDKs send one
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"}

JUDGE_SYSTEM = (
    "You are grading a customer-support answer for a fine-tuning run. Read the conversation, the "
    "reference resolution and the policy excerpt, then score the answer from 0 to 10. Give full marks "
    "only when the answer resolves the customer's issue as the reference does, cites the policy where "
    "it applies, keeps a polite and concise tone, and makes no promise the policy does not allow. "
    "Deduct two points for every factual error about the order, one point for a missing policy "
    "citation, and one point for an answer longer than 180 words. An answer that refuses without a "
    "reason, or asks for information the conversation already gives, scores at most 3. Think through "
    "each criterion in turn before you score, and do not reward length for its own sake. "
    "Policy excerpt: refunds are granted within 30 days of delivery for unused items in their original "
    "packaging; damaged deliveries are replaced at no cost when reported within 7 days with a photo; "
    "shipping fees are refunded only when the error was ours; store credit never expires; exchanges "
    "follow the refund window. Escalate to a supervisor when the customer asks twice or the amount is "
    "over 500. Never share another customer's data, never ask for a full card number, and always close "
    "with the ticket number."
)


def realistic_grader(number: int) -> dict[str, Any]:
    return {
        "type": "multi",
        "name": f"support answer {number} {UNIQUE}",
        "calculate_output": "0.4 * judge / 10 + 0.3 * solved + 0.2 * close + 0.1 * ticket",
        "graders": {
            "judge": {
                "type": "score_model",
                "name": "support judge",
                "model": "gpt-4o-2024-08-06",
                "input": [
                    {"role": "system", "content": JUDGE_SYSTEM},
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "input_text",
                                "text": "Conversation: {{ item.conversation }}\nReference: "
                                "{{ item.reference }}\nAnswer to grade: {{ sample.output_text }}",
                            }
                        ],
                    },
                ],
                "range": [0, 10],
                "sampling_params": {"temperature": 0, "seed": 42, "max_completions_tokens": 512},
            },
            "solved": {"type": "python", "name": "final answer", "source": PYTHON_SOURCE},
            "close": {
                "type": "text_similarity",
                "name": "close to the reference",
                "input": "{{ sample.output_text }}",
                "reference": "{{ item.reference }}",
                "evaluation_metric": "fuzzy_match",
            },
            "ticket": {
                "type": "string_check",
                "name": "ticket cited",
                "input": "{{ sample.output_text }}",
                "reference": "{{ item.ticket }}",
                "operation": "like",
            },
        },
    }


def string_check_bodies(count: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    labels = ["positive", "negative", "neutral", "mixed"]
    grader = {
        "type": "string_check",
        "name": "exact label",
        "input": "{{ sample.output_text }}",
        "reference": "{{ item.label }}",
        "operation": "eq",
    }
    bodies = []
    for _ in range(count):
        label = rng.choice(labels)
        said = label if rng.random() < 0.6 else rng.choice(labels)
        bodies.append({"grader": grader, "model_sample": said, "item": {"label": label}})
    return bodies


def python_bodies(count: int) -> list[dict[str, Any]]:
    grader = {"type": "python", "name": "final answer", "source": PYTHON_SOURCE}
    return [
        {"grader": grader, "model_sample": sample["output_text"], "item": item}
        for sample, item in python_samples(count)
    ]


def scenarios() -> dict[str, tuple[str, list[dict[str, Any]]]]:
    return {
        "validate": (VALIDATE, [{"grader": realistic_grader(n)} for n in range(BODIES)]),
        "run_string_check": (RUN, string_check_bodies(BODIES)),
        "run_python": (RUN, python_bodies(BODIES)),
    }


# --------------------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by `root` and every live process under it: the server's
    workers and their sandboxes. What a process that ended took is not counted."""
    parents: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(parents.get(pid, []))
    return total


def post(port: int, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, json.dumps(body), HEADERS)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


class Server:
    """`gradergen serve` on a free loopback port, as a user starts it; with `floor`, the bare app of
    bench/asgi_floor.py under the same uvicorn settings instead."""

    def __init__(self, workers: int, floor: bool = False) -> None:
        self.port = free_port()
        self.workers = workers
        if floor:  # bench/asgi_floor.py, as `gradergen serve` runs its app
            command = [sys.executable, "-m", "uvicorn", "asgi_floor:app", "--app-dir", str(LUA.parent)]
            command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
            command += ["--log-level", "warning"]
        else:
            command = [str(BIN / "gradergen"), "serve"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        self.command = command
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode}:\n{self.output()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"the server did not answer /healthz in {timeout:.0f} s:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --------------------------------------------------------------------------- checks before the load
def python_engine_rewards(bodies: list[dict[str, Any]]) -> list[float]:
    from gradergen.engine import compile_grader

    compiled = compile_grader(bodies[0]["grader"])
    results = compiled.run_many([b["model_sample"] for b in bodies], [b["item"] for b in bodies])
    return [float(r.reward) for r in results]


def check_answers(port: int, plan: dict[str, tuple[str, list[dict[str, Any]]]], sample: int) -> None:
    """Every scenario's bodies are answered 200 with the rewards they should get."""
    for name, (path, bodies) in plan.items():
        picked = bodies[:sample]
        answers = []
        for body in picked:
            status, answer = post(port, path, body)
            if status != 200:
                raise SystemExit(f"{name}: the server answered {status}: {json.dumps(answer)[:600]}")
            answers.append(answer)
        if name == "validate":
            for body, answer in zip(picked, answers, strict=True):
                if answer.get("grader") != body["grader"]:
                    shown = json.dumps(answer)[:600]
                    raise SystemExit(f"validate: the answer is not the grader sent: {shown}")
        elif name == "run_string_check":
            for body, answer in zip(picked, answers, strict=True):
                expected = 1.0 if body["model_sample"] == body["item"]["label"] else 0.0
                if answer["reward"] != expected:
                    raise SystemExit(f"run_string_check: reward {answer['reward']}, expected {expected}")
        else:
            engine = python_engine_rewards(picked)
            served = [a["reward"] for a in answers]
            if served != engine:
                raise SystemExit("run_python: the server's rewards differ from the in-process engine's")


# --------------------------------------------------------------------------- wrk
def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def bodies_module(name: str, path: str, bodies: list[dict[str, Any]], directory: Path) -> Path:
    """The scenario's bodies as a Lua module that server_wrk.lua loads (ASCII JSON, one string each);
    bodies that carry UNIQUE get a number of their own in each request."""
    headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in HEADERS.items())
    unique = "true" if UNIQUE in json.dumps(bodies[0]) else "false"
    lines = [
        f"return {{ path = {lua_string(path)}, unique = {unique},",
        f"  headers = {{ {headers} }}, bodies = {{",
    ]
    lines += [f"  {lua_string(json.dumps(b, ensure_ascii=True, separators=(',', ':')))}," for b in bodies]
    lines.append("} }")
    target = directory / f"bodies_{name}.lua"  # one file per scenario: two share the /run path
    target.write_text("\n".join(lines) + "\n", encoding="ascii")
    return target


def pause_ms(rate: float) -> int:
    """The pause after each answer that holds 64 connections near `rate` and a tenth more (the
    answer's own latency makes it a little slower)."""
    return int(CONNECTIONS * 1000 / (rate * 1.1))


def wrk(
    server: Server, module: Path, seconds: float, threads: int, pause: int | None = None
) -> dict[str, Any]:
    port = server.port
    command = [
        "wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{round(seconds)}s", "--latency", "--timeout", "10s",
        "-s", str(LUA), f"http://127.0.0.1:{port}", "--", str(module),
    ]
    env = dict(os.environ)
    env.pop(PAUSE_VARIABLE, None)
    if pause is not None:
        env[PAUSE_VARIABLE] = str(pause)
    cpu_before = tree_cpu_seconds(server.process.pid)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, env=env)
    cpu = tree_cpu_seconds(server.process.pid) - cpu_before
    if result.returncode != 0:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    marker = [line for line in result.stdout.splitlines() if line.startswith("WRK_JSON ")]
    if len(marker) != 1:
        raise SystemExit(f"wrk printed no summary:\n{result.stdout}\n{result.stderr}")
    summary: dict[str, Any] = json.loads(marker[0].removeprefix("WRK_JSON "))
    errors = summary["errors"]
    if any(errors.values()):
        raise SystemExit(f"wrk saw errors, the figures would be wrong: {errors}\n{result.stdout}")
    seconds_run = summary["duration_us"] / 1e6
    return {
        "requests": summary["requests"],
        "requests_per_second": summary["requests"] / seconds_run,
        "p50_ms": summary["latency_us"]["p50"] / 1000,
        "p90_ms": summary["latency_us"]["p90"] / 1000,
        "p99_ms": summary["latency_us"]["p99"] / 1000,
        "max_ms": summary["latency_us"]["max"] / 1000,
        "cpu_ms_per_request": 1000 * cpu / max(1, summary["requests"]),
    }


# --------------------------------------------------------------------------- the in-process peer
async def engine_load(bodies: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    from gradergen.engine import compile_grader

    compiled = compile_grader(bodies[0]["grader"])
    for body in bodies[: 4 * CONNECTIONS]:  # the pool started and warm, as the server's is
        await compiled.arun(body["model_sample"], body["item"])
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        index = offset
        while time.perf_counter() < deadline:
            body = bodies[index % len(bodies)]
            index += CONNECTIONS
            began = time.perf_counter()
            await compiled.arun(body["model_sample"], body["item"])
            latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    cpu_before = tree_cpu_seconds(os.getpid())
    await asyncio.gather(*(client(n) for n in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    cpu = tree_cpu_seconds(os.getpid()) - cpu_before
    latencies.sort()

    def percentile(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return {
        "requests": len(latencies),
        "requests_per_second": len(latencies) / elapsed,
        "p50_ms": percentile(50),
        "p90_ms": percentile(90),
        "p99_ms": percentile(99),
        "max_ms": 1000 * latencies[-1],
        "cpu_ms_per_request": 1000 * cpu / max(1, len(latencies)),
    }


def in_process(data: Path, seconds: float) -> dict[str, Any]:
    command = [sys.executable, __file__, "--in-process", str(data), "--seconds", str(seconds)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=seconds + 300)
    if result.returncode != 0:
        raise SystemExit(f"the in-process engine failed ({result.returncode}):\n{result.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


# --------------------------------------------------------------------------- rounds
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds, at least 3 (default 5)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per scenario")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server processes")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk's threads (default 2)")
    parser.add_argument("--in-process", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        bodies = json.loads(args.in_process.read_text(encoding="utf-8"))
        print(json.dumps(asyncio.run(engine_load(bodies, args.seconds))))
        return
    if args.rounds < 3:
        parser.error("--rounds must be at least 3: the figures are medians")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench installs it)")

    plan = scenarios()
    load_before = os.getloadavg()
    server = Server(args.workers)
    floor = Server(args.workers, floor=True)
    rounds: dict[str, list[dict[str, Any]]] = {
        name: [] for name in [*plan, *(n + AT_GOAL for n in PACED), "in_process_python", FLOOR]
    }
    try:
        check_answers(server.port, plan, sample=100)
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            modules = {name: bodies_module(name, *scenario, directory) for name, scenario in plan.items()}
            assert len(set(modules.values())) == len(modules), "two scenarios would load one module"
            python_data = directory / "python_bodies.json"
            python_data.write_text(json.dumps(plan["run_python"][1]), encoding="utf-8")
            for module in modules.values():  # warm up: every worker process's caches and pool
                wrk(server, module, 3, args.wrk_threads)
            wrk(floor, modules["run_python"], 3, args.wrk_threads)
            for number in range(args.rounds):
                for name, module in modules.items():
                    rounds[name].append(wrk(server, module, args.seconds, args.wrk_threads))
                for name in PACED:
                    rate = GOALS[name]["requests_per_second"]
                    figures = wrk(server, modules[name], args.seconds, args.wrk_threads, pause_ms(rate))
                    rounds[name + AT_GOAL].append(figures)
                rounds["in_process_python"].append(in_process(python_data, args.seconds))
                rounds[FLOOR].append(wrk(floor, modules["run_python"], args.seconds, args.wrk_threads))
                line = ", ".join(
                    f"{n} {r[-1]['requests_per_second']:,.0f}/s p99 {r[-1]['p99_ms']:.1f} ms"
                    for n, r in rounds.items()
                )
                print(f"round {number + 1}: {line}", flush=True)
    finally:
        server.stop()
        floor.stop()

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in rounds[name])

    summary = {
        name: {key: median(name, key) for key in FIGURES} for name in rounds
    }
    ratios = [
        s["requests_per_second"] / p["requests_per_second"]
        for s, p in zip(rounds["run_python"], rounds["in_process_python"], strict=True)
    ]
    cpu_ratios = [
        p["cpu_ms_per_request"] / s["cpu_ms_per_request"]
        for s, p in zip(rounds["run_python"], rounds["in_process_python"], strict=True)
    ]
    ceilings = [
        f["requests_per_second"] / (f["requests_per_second"] + p["requests_per_second"])
        for f, p in zip(rounds[FLOOR], rounds["in_process_python"], strict=True)
    ]
    results = {
        "rounds": args.rounds,
        "seconds": args.seconds,
        "connections": CONNECTIONS,
        "server_workers": args.workers,
        "wrk_threads": args.wrk_threads,
        "cpus": os.cpu_count(),
        "command": server.command[1:],
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "goals": GOALS,
        "summary": summary,
        "run_python_vs_in_process": statistics.median(ratios),
        "run_python_vs_in_process_by_round": ratios,
        "run_python_vs_in_process_per_cpu": statistics.median(cpu_ratios),
        "run_python_vs_in_process_per_cpu_by_round": cpu_ratios,
        "run_python_ceiling_vs_in_process": statistics.median(ceilings),
        "run_python_ceiling_vs_in_process_by_round": ceilings,
        "runs": rounds,
    }
    print(f"\n{'':22} {'requests/s':>11} {'p50':>8} {'p90':>8} {'p99':>8} {'CPU/request':>12}")
    for name, figures in summary.items():
        print(
            f"{name:22} {figures['requests_per_second']:>11,.0f} {figures['p50_ms']:>6.1f}ms "
            f"{figures['p90_ms']:>6.1f}ms {figures['p99_ms']:>6.1f}ms "
            f"{figures['cpu_ms_per_request']:>10.3f}ms"
        )
    for name in PACED:
        goal = GOALS[name]
        for label, figures in (("", summary[name]), (" at its goal's rate", summary[name + AT_GOAL])):
            print(
                f"{name}{label}: {figures['requests_per_second']:,.0f}/s "
                f"(goal >= {goal['requests_per_second']:,}), "
                f"p99 {figures['p99_ms']:.1f} ms (goal < {goal['p99_ms']} ms)"
            )
    print(
        f"run_python vs the engine in process: {results['run_python_vs_in_process']:.2f}x (goal >= 0.7x); "
        f"by round {', '.join(f'{r:.2f}' for r in ratios)}"
    )
    print(
        "run_python vs the engine in process, per CPU second: "
        f"{results['run_python_vs_in_process_per_cpu']:.2f}x"
        f"; by round {', '.join(f'{r:.2f}' for r in cpu_ratios)}"
    )
    print(
        "run_python's ceiling (HTTP as the floor's, grading as the engine's in process): "
        f"{results['run_python_ceiling_vs_in_process']:.2f}x"
        f"; by round {', '.join(f'{r:.2f}' for r in ceilings)}"
    )
    print(f"load average before/after: {load_before[0]:.2f} / {results['load_average_after'][0]:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

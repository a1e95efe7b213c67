"""`gradergen serve` under abuse: how fast a /validate client is answered while 100 clients send python
graders that loop forever or allocate without bound, against the same client on the idle server, side
by side in each round.

Each round starts a server (python graders: 2 s limit, 256 MB, 2 workers, a queue of 100; the
deadline is the limit plus 1 s), then runs the two contenders in turn (their order alternating by
round): *idle*, the validate client alone, and *abused*, the same client while 100 abusers (half
looping, half allocating; each sends again as soon as it is answered, a 429 included) keep the
sandbox full. The validate client sends one string_check grader at a time over one keep-alive
connection, 50 a second, for the contender's duration, from a thread of its own; its latency is the
time from sending to the last byte. Reported per contender: p50, p99 and the largest latency (medians
over the rounds), the abusers' answers by outcome, and the peak resident memory of the server with
every process under it. Goal: the abused p99 under 100 ms. Results: bench/results/server_abuse.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from graders_server import GradersServer  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "server_abuse.json"
ABUSERS = 100
LOOPS = "def grade(sample, item):\n    while True:\n        pass\n"
ALLOCATES = (
    "def grade(sample, item):\n    hoard = []\n    while True:\n        hoard.append(bytearray(1 << 24))\n"
)
CHECKED = {"type": "string_check", "name": "v", "input": "{{ sample.output_text }}", "operation": "eq",
           "reference": "x"}  # fmt: skip
CONFIG = {
    "python": {"timeout": 2, "memory_mb": 256, "workers": 2},
    "server": {"python_queue": ABUSERS, "deadline_slack": 1},
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def validate_client(server: GradersServer, seconds: float, out: list[float]) -> None:
    with httpx.Client(timeout=30) as client:
        client.post(server.endpoint("validate"), json={"grader": CHECKED})  # the connection, warm
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            started = time.perf_counter()
            answer = client.post(server.endpoint("validate"), json={"grader": CHECKED})
            out.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            time.sleep(max(0.0, 0.02 - (time.perf_counter() - started)))


def tree_rss(server: GradersServer) -> int:
    assert server.proc is not None
    total = 0
    for pid in [server.proc.pid, *server.descendants()]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


async def abuse(server: GradersServer, stop: threading.Event, outcomes: dict[str, int]) -> None:
    limits = httpx.Limits(max_connections=ABUSERS + 10, max_keepalive_connections=ABUSERS + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def abuser(i: int) -> None:
            source = (LOOPS if i % 2 == 0 else ALLOCATES) + f"# abuser {i}\n"
            grader = {"type": "python", "name": f"abuser-{i}", "source": source}
            body = {"grader": grader, "model_sample": "x"}
            while not stop.is_set():
                try:
                    answer = await client.post(server.endpoint("run"), json=body)
                except httpx.TransportError as exc:  # counted (and reported), and the abuser goes on
                    outcome = f"connection error: {type(exc).__name__}"
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                    continue
                if answer.status_code == 429:
                    outcome = "429"
                    await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
                elif answer.status_code == 200:
                    outcome = answer.json()["metadata"]["errors"]["python_grader_server_error_type"] or "none"
                else:
                    outcome = f"HTTP {answer.status_code}"
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

        await asyncio.gather(*(abuser(i) for i in range(ABUSERS)))


def contender(server: GradersServer, abused: bool, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    stop = threading.Event()
    peak = [tree_rss(server)]

    def watch_memory() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(server))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch_memory)
    watcher.start()
    abusing = threading.Thread(target=lambda: asyncio.run(abuse(server, stop, outcomes))) if abused else None
    if abusing is not None:
        abusing.start()
        time.sleep(1.0)  # the sandbox full before the measured client starts
    validate_client(server, seconds, latencies)
    stop.set()
    if abusing is not None:
        abusing.join()
    watcher.join()
    return {
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "abusers_answered": outcomes,
        "peak_rss_mb": peak[0] / 2**20,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0, help="each contender's measured time")
    args = parser.parse_args()
    rounds: list[dict[str, Any]] = []
    for number in range(args.rounds):
        with GradersServer(CONFIG) as server:
            order = [False, True] if number % 2 == 0 else [True, False]
            result: dict[str, Any] = {
                ("abused" if abused else "idle"): contender(server, abused, args.seconds) for abused in order
            }
            result["errors_in_log"] = server.stderr().count("Traceback")
        rounds.append(result)
        print(f"round {number + 1}: " + ", ".join(
            f"{name} p99 {r['p99_ms']:.1f} ms (p50 {r['p50_ms']:.1f}, max {r['max_ms']:.1f}, "
            f"{r['requests']} requests, peak {r['peak_rss_mb']:.0f} MB)"
            for name, r in result.items() if isinstance(r, dict)))  # fmt: skip
    summary: dict[str, Any] = {"rounds": rounds, "config": CONFIG, "abusers": ABUSERS}
    summary["seconds"] = args.seconds
    for name in ("idle", "abused"):
        summary[name] = {
            key: statistics.median(r[name][key] for r in rounds)
            for key in ("p50_ms", "p99_ms", "max_ms", "peak_rss_mb", "requests")
        }
    summary["goal"] = "abused p99 < 100 ms"
    summary["met"] = summary["abused"]["p99_ms"] < 100
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    for name in ("idle", "abused"):
        s = summary[name]
        print(f"{name:7} p50 {s['p50_ms']:6.1f} ms  p99 {s['p99_ms']:6.1f} ms  max {s['max_ms']:7.1f} ms  "
              f"peak {s['peak_rss_mb']:5.0f} MB  (medians of {args.rounds} rounds)")  # fmt: skip
    print(f"goal {summary['goal']}: {'met' if summary['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

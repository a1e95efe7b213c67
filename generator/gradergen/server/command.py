"""`gradergen serve`: the graders API on a local port, served by uvicorn."""

from __future__ import annotations

import argparse
import copy
import ipaddress
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import run_guarded
from ..rewards import openrlhf

COMMANDS = ("serve",)
EXIT_USAGE = 2


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser(
        "serve",
        help="serve the graders API, answered by the local engine",
        description="Serve POST /v1/fine_tuning/alpha/graders/run and /validate (and /healthz, "
        "/v1/openapi.yaml), answered by the local engine and validator: point any client of the graders "
        "API at http://HOST:PORT/v1. Without an API key only a loopback address may be served.",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    s.add_argument("--workers", type=int, default=1, metavar="N", help="server processes (default: 1)")
    s.add_argument(
        "--config", type=Path, default=None, metavar="FILE", help="settings (default: ./gradergen.toml)"
    )
    s.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="the bearer token every request must carry (default: $GRADERGEN_API_KEY; none: no check)",
    )
    s.add_argument(
        "--insecure-public",
        action="store_true",
        help="allow a non-loopback address without an API key (anyone who reaches it may run graders)",
    )
    s.add_argument(
        "--reward-grader",
        default=None,
        metavar="FILE",
        help=f"serve this grader as OpenRLHF's remote reward model at {openrlhf.PATH}",
    )
    s.add_argument(
        "--reward-deadline",
        type=float,
        default=None,
        metavar="S",
        help=f"seconds a reward batch may take (default: {openrlhf.DEFAULT_DEADLINE:g})",
    )
    s.add_argument(
        "--reward-strip",
        action="append",
        default=[],
        metavar="TOKEN",
        help="an end-of-turn token to cut from a response's end (repeatable), e.g. '<|im_end|>'",
    )
    s.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info", help="default: info"
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's own, plus the engine's messages on standard error and the access lines (JSON, one a
    line) on standard output."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access_lines"] = {
        "class": "gradergen.server.accesslog.LineHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["gradergen"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    config["loggers"]["gradergen.server.access"] = {
        "handlers": ["access_lines"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def run(args: argparse.Namespace) -> int:
    from ..engine import EngineConfig, EngineError
    from .service import Service, Settings

    if not 0 <= args.port <= 65535:
        return _usage(f"--port {args.port} is not a port (0-65535)")
    if args.workers < 1:
        return _usage(f"--workers must be at least 1, found {args.workers}")
    api_key = args.api_key or os.environ.get("GRADERGEN_API_KEY") or None
    if api_key is None and not args.insecure_public and not is_loopback(args.host):
        return _usage(
            f"refusing to serve {args.host} without an API key: anyone who reaches it could run graders "
            "on this machine. Set --api-key or $GRADERGEN_API_KEY, or pass --insecure-public."
        )
    try:
        config = EngineConfig.load(args.config)
    except EngineError as exc:
        return _usage(str(exc))
    problem = _reward_settings(args, config)
    if problem is not None:
        return _usage(problem)
    # The workers (and the app in this process) read their settings from the environment.
    if args.config is not None:
        os.environ["GRADERGEN_CONFIG"] = str(args.config.resolve())
    if api_key is not None:
        os.environ["GRADERGEN_API_KEY"] = api_key
    if config.python.workers is None and args.workers > 1:
        os.environ["GRADERGEN_PYTHON_WORKERS"] = str(sandbox_workers_each(args.workers))
    longest = Service(Settings(config)).deadline(frozenset({"python", "score_model", "embeddings"}))

    import uvicorn

    uvicorn.run(
        "gradergen.server:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="gradergen.server.protocol:IgnoresUpgradeOffers",  # httptools, without its h2c bug
        lifespan="on",
        access_log=False,
        log_config=log_config(args.log_level),
        log_level=args.log_level,
        server_header=False,
        timeout_graceful_shutdown=int(longest) + 5,
    )
    return 0


def sandbox_workers_each(processes: int) -> int:
    """Sandbox workers per server process when `[python] workers` is unset: the CPUs shared out among
    the processes, at least one each. One per CPU in every process would run `processes` times as many
    interpreters as there are CPUs, each waiting for the others (measured on 2 CPUs and 2 processes:
    fewer requests a second, a longer tail) and each holding its memory."""
    return max(1, (os.cpu_count() or 1) // processes)


def _reward_settings(args: argparse.Namespace, config: Any) -> str | None:
    """Check the reward grader now (a bad one is refused before the server starts) and hand the
    settings to the server's processes through the environment."""
    if args.reward_grader is None:
        if args.reward_deadline is not None or args.reward_strip:
            return "--reward-deadline and --reward-strip need --reward-grader"
        return None
    if args.reward_deadline is not None and not args.reward_deadline > 0:
        return f"--reward-deadline must be more than 0 seconds, found {args.reward_deadline:g}"
    from ..engine import EngineError
    from ..rewards.core import as_compiled

    grader = Path(args.reward_grader)
    if not grader.is_file():
        return f"--reward-grader: no such file: {args.reward_grader}"
    try:
        as_compiled(grader, config)
    except EngineError as exc:
        return f"--reward-grader {args.reward_grader}: {exc}"
    os.environ[openrlhf.GRADER_VARIABLE] = str(grader.resolve())
    if args.reward_deadline is not None:
        os.environ[openrlhf.DEADLINE_VARIABLE] = repr(args.reward_deadline)
    if args.reward_strip:
        os.environ[openrlhf.STRIP_VARIABLE] = json.dumps(args.reward_strip)
    return None


def _usage(message: str) -> int:
    print(f"gradergen serve: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def safely(args: argparse.Namespace) -> int:
    return run_guarded("gradergen serve", lambda: run(args))

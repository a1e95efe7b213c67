"""`gradergen run`: grade one sample locally and print the response the service would give."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml

from ..errors import run_guarded
from .config import ISOLATION_LEVELS

COMMANDS = ("run",)
EXIT_RAN, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser(
        "run",
        help="run a grader on one sample, locally",
        description="Run a grader on one model sample and print the response the graders API would give. "
        "The grader is validated first: an invalid one is refused with the validator's located errors "
        "(exit 1) before anything runs. Exit status: 0 when the grader ran (its error flags are in the "
        "output), 1 invalid grader, 2 usage or configuration error.",
    )
    r.add_argument(
        "--grader", required=True, metavar="FILE|JSON|YAML", help="a grader file, or the grader itself"
    )
    r.add_argument(
        "--model-sample",
        required=True,
        metavar="TEXT",
        help="the model's output (@FILE reads it from a file)",
    )
    r.add_argument(
        "--item", default=None, metavar="JSON|YAML|@FILE", help="the dataset row the templates read"
    )
    r.add_argument("--format", choices=("json", "text"), default="json", help="output format (default: json)")
    add_engine_settings(r)


def add_engine_settings(parser: argparse.ArgumentParser) -> None:
    """The engine's settings every grading command takes (read back by `_overrides`)."""
    parser.add_argument(
        "--config", type=Path, default=None, metavar="FILE", help="settings (default: ./gradergen.toml)"
    )
    parser.add_argument(
        "--model-base-url", default=None, metavar="URL", help="an OpenAI-compatible API for model graders"
    )
    parser.add_argument(
        "--embeddings-base-url", default=None, metavar="URL", help="an OpenAI-compatible embeddings API"
    )
    parser.add_argument(
        "--python-timeout", type=float, default=None, metavar="S", help="seconds a python grader may run"
    )
    parser.add_argument(
        "--require-isolation",
        choices=ISOLATION_LEVELS,
        default=None,
        help="refuse to run python graders below this isolation level",
    )
    parser.add_argument("--no-cache", action="store_true", help="call models even when the answer is cached")


class UsageError(Exception):
    pass


def _read_argument(value: str, what: str) -> str:
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{what}: cannot read {path}: {exc}") from None
    return value


def _load_grader(value: str) -> tuple[Any, str, str]:
    """The grader, its text and the name to report problems under."""
    path = Path(value)
    if not value.lstrip().startswith(("{", "[")) and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--grader: cannot read {path}: {exc}") from None
        name = str(path)
    elif not value.lstrip().startswith(("{", "[")) and (
        "/" in value or value.endswith((".json", ".yaml", ".yml"))
    ):
        raise UsageError(f"--grader: no such file: {value}")
    else:
        text, name = value, "--grader"
    try:
        return yaml.safe_load(text), text, name
    except yaml.YAMLError:
        return None, text, name  # the validator reports where it fails


def _item(value: str | None) -> Any:
    if value is None:
        return None
    text = _read_argument(value, "--item")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"--item: not valid JSON or YAML: {exc}") from None


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if args.model_base_url:
        out.setdefault("models", {})["base_url"] = args.model_base_url
    if args.embeddings_base_url:
        out.setdefault("embeddings", {})["base_url"] = args.embeddings_base_url
    if args.python_timeout is not None:
        out.setdefault("python", {})["timeout"] = args.python_timeout
    if args.require_isolation:
        out.setdefault("python", {})["require_isolation"] = args.require_isolation
    if args.no_cache:
        out.setdefault("cache", {})["enabled"] = False
    return out


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from ..errors import GradergenError
    from ..validation import validate_text
    from ..validation.report import write_text
    from ..validation.run import Report
    from .compiled import compile_grader
    from .config import EngineConfig
    from .errors import GraderInvalid

    try:
        grader, text, name = _load_grader(args.grader)
        model_sample = _read_argument(args.model_sample, "--model-sample")
        item = _item(args.item)
        problems = validate_text(text, name=name)
        if any(p.severity == "error" for p in problems) or not isinstance(grader, dict):
            write_text([Report(name, 1, problems)], err)
            return EXIT_INVALID
        config = EngineConfig.load(args.config, overrides=_overrides(args))
        compiled = compile_grader(grader, config)
        response, outcome = compiled.run_explained(model_sample, item)
        outcome_notes = outcome.notes
    except UsageError as exc:
        print(f"gradergen: error: {exc}", file=err)
        return EXIT_USAGE
    except GraderInvalid as exc:
        write_text([Report(name, 1, exc.problems)], err)
        return EXIT_INVALID
    except GradergenError as exc:
        print(f"gradergen: error: {exc}", file=err)
        return EXIT_USAGE
    for warning in problems:
        if warning.severity == "warning":
            print(f"{name}: warning: {warning.describe()}", file=err)
    if args.format == "json":
        from .outcome import as_json

        json.dump(as_json(response), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        write_summary(response, compiled, outcome_notes, out)
    return EXIT_RAN


def write_summary(response: Any, compiled: Any, notes: list[str], out: TextIO) -> None:
    """The reward, the flags that are set with their details, the sub-rewards and the isolation."""
    metadata = response.metadata
    out.write(f"reward: {response.reward:g}\n")
    out.write(f"grader: {metadata.name or '(no name)'} ({metadata.type})\n")
    errors = metadata.errors.model_dump()
    details = {
        "model_grader_server_error": errors.get("model_grader_server_error_details"),
        "python_grader_runtime_error": errors.get("python_grader_runtime_error_details"),
        "python_grader_server_error": errors.get("python_grader_server_error_type"),
    }
    flags = [k for k, v in errors.items() if v is True]
    if flags:
        out.write("errors:\n")
        for flag in flags:
            detail = details.get(flag)
            out.write(f"  {flag}" + (f": {_one_line(detail)}" if detail else "") + "\n")
    else:
        out.write("errors: none\n")
    if response.sub_rewards:
        width = max(len(k) for k in response.sub_rewards)
        out.write("sub-rewards:\n")
        for key, value in response.sub_rewards.items():
            out.write(f"  {key.ljust(width)}  {value:g}\n")
    usage = metadata.token_usage
    if usage is not None and not isinstance(usage, int):
        total = getattr(usage, "total_tokens", None)
        out.write(f"tokens: {total} ({metadata.sampled_model_name})\n")
    out.write(f"isolation: {isolation_of(compiled)}\n")
    out.write(f"time: {metadata.execution_time:.3f} s\n")
    for note in notes:
        out.write(f"note: {note}\n")


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def isolation_of(compiled: Any) -> str:
    """The isolation python graders ran under, or that none ran."""
    if not _has_python(compiled.grader):
        return "not needed (no python grader)"
    return str(compiled.services.sandbox().isolation)


def _has_python(grader: dict[str, Any]) -> bool:
    if grader.get("type") == "python":
        return True
    subs = grader.get("graders")
    return isinstance(subs, dict) and any(isinstance(g, dict) and _has_python(g) for g in subs.values())


def safely(args: argparse.Namespace) -> int:
    return run_guarded("gradergen", lambda: run(args))

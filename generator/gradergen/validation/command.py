"""`gradergen validate` and `gradergen schema`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import run_guarded

COMMANDS = ("validate", "schema")
DEFAULT_MAX_MIB = 16


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    v = sub.add_parser(
        "validate",
        help="check grader files (JSON, JSONL, YAML) against the spec",
        description="Check graders and run/validate request bodies: the schema from the spec, template "
        "strings, calculate_output formulas, python sources and the rest of the documented rules. "
        "Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error or unreadable input.",
    )
    v.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files, directories (searched for .json, .jsonl, .yaml, .yml) or - for standard input",
    )
    v.add_argument(
        "--grader",
        action="append",
        default=[],
        metavar="TEXT",
        help="a grader given inline, as JSON or YAML flow: '{type: string_check, ...}'",
    )
    v.add_argument("--strict", action="store_true", help="treat warnings (unknown properties…) as errors")
    v.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    v.add_argument(
        "--input-format",
        choices=("auto", "json", "jsonl", "yaml"),
        default="auto",
        help="how to read the input (default: from the file name, else from the content)",
    )
    v.add_argument(
        "--max-size",
        type=_positive,
        default=DEFAULT_MAX_MIB,
        metavar="MIB",
        help=f"largest document to read, in MiB (default: {DEFAULT_MAX_MIB})",
    )
    v.add_argument(
        "-j",
        "--jobs",
        type=_count,
        default=0,
        metavar="N",
        help="processes for big JSONL files (default: 0, one per CPU)",
    )
    v.add_argument("-q", "--quiet", action="store_true", help="print nothing when there are no problems")

    s = sub.add_parser(
        "schema",
        help="print the JSON Schema of grader files",
        description="Print a standalone JSON Schema (draft 2020-12) for grader files, derived from the spec, "
        "for editors and other validators.",
    )
    s.add_argument("--strict", action="store_true", help="reject unknown properties instead of allowing them")
    s.add_argument("-o", "--output", type=Path, default=None, help="write to this file instead of stdout")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (one per CPU) or more")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of MiB, found {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    if args.command == "schema":
        return _schema(args)
    return _validate(args)


def _schema(args: argparse.Namespace) -> int:
    from .schema import bundled_schema, dumps

    text = dumps(bundled_schema(args.strict))
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"gradergen: error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    return 0


def _validate(args: argparse.Namespace) -> int:
    if not args.paths and not args.grader:
        print(
            "gradergen validate: error: give files, directories, - for standard input, or --grader TEXT",
            file=sys.stderr,
        )
        return 2
    from .check import bundled_validator
    from .inputs import check_path, check_stream, expand
    from .report import exit_status, write_json, write_text
    from .run import Report, check_text

    validator = bundled_validator()
    fmt = None if args.input_format == "auto" else args.input_format
    limit = args.max_size * 2**20
    reports: list[Report] = []
    for path in expand(args.paths):
        if isinstance(path, Report):  # a directory that could not be listed
            reports.append(path)
        elif path == "-":
            reports.append(check_stream("<stdin>", sys.stdin.buffer, fmt, validator, args.strict, limit))
        else:
            reports.append(check_path(path, fmt, validator, args.strict, limit, args.jobs))
    for text in args.grader:
        reports.append(check_text(text, "--grader", fmt, args.strict, validator, limit))
    if args.format == "json":
        write_json(reports, sys.stdout)
    else:
        write_text(reports, sys.stdout, args.quiet)
    return exit_status(reports)


def safely(args: argparse.Namespace) -> int:
    return run_guarded(f"gradergen {args.command}", lambda: run(args))

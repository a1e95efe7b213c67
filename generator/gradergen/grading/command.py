"""`gradergen grade`: a grader (or two, compared) over a dataset, into a results file, with a summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from ..engine.command import add_engine_settings
from ..errors import run_guarded

COMMANDS = ("grade",)
EXIT_DONE, EXIT_INVALID, EXIT_USAGE, EXIT_UNREADABLE_ROWS, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    g = sub.add_parser(
        "grade",
        help="grade a dataset: every row's sample, into a results file",
        description="Grade every row of a dataset (JSONL, a JSON array, CSV or Parquet) locally and write "
        "one result row a line, in order. Exit status: 0 every row graded (rows whose grader set an error "
        "flag included), 1 invalid grader, 2 usage error or unreadable file, 3 some rows could not be "
        "graded (they are written with their error), 130 interrupted (--resume continues).",
    )
    which = g.add_mutually_exclusive_group(required=True)
    which.add_argument("--grader", metavar="FILE|JSON|YAML", help="the grader: a file, or the grader itself")
    which.add_argument(
        "--compare", nargs=2, metavar=("OLD", "NEW"), help="grade with two graders and show where they differ"
    )
    g.add_argument("--data", required=True, metavar="FILE", help="the rows (- for standard input)")
    g.add_argument(
        "--format",
        choices=("jsonl", "json", "csv", "parquet"),
        default=None,
        help="the data's format (default: from its extension)",
    )
    g.add_argument(
        "--sample-field",
        default="model_sample",
        metavar="FIELD",
        help="the field holding the model's sample: text, or an object of sample variables "
        "(default: model_sample)",
    )
    g.add_argument(
        "--item-field",
        default=None,
        metavar="FIELD",
        help="the field holding the item (default: the row without its sample)",
    )
    g.add_argument(
        "--id-field",
        default=None,
        metavar="FIELD",
        help="the field identifying a row: written with each result, and pairs --samples",
    )
    g.add_argument(
        "--samples",
        default=None,
        metavar="FILE",
        help="the samples in a file of their own, paired with the data by line, or by --id-field",
    )
    g.add_argument("--samples-format", choices=("jsonl", "json", "csv", "parquet"), default=None)
    g.add_argument("--out", type=Path, default=None, metavar="FILE", help="the results file (JSONL)")
    again = g.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue a stopped run into the same --out")
    again.add_argument("--overwrite", action="store_true", help="grade from the start over an existing --out")
    g.add_argument("--report", type=Path, default=None, metavar="FILE.html", help="write an HTML report too")
    g.add_argument(
        "--timings",
        action="store_true",
        help="write each response's measured execution_time (default 0.0: a deterministic file)",
    )
    g.add_argument(
        "--dry-run",
        action="store_true",
        help="count the model and python calls and estimate prompt tokens; call nothing",
    )
    g.add_argument(
        "--max-concurrency",
        type=int,
        default=None,
        metavar="N",
        help="model calls in flight at once (default: [models] concurrency, 8)",
    )
    g.add_argument(
        "--max-row-mib",
        type=float,
        default=64.0,
        metavar="MIB",
        help="the largest row read; a longer one is a row with an error (default: 64)",
    )
    g.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="where rows are graded: this machine (default), or a Ray cluster "
        "(pip install 'gradergen[ray]'); the results file is the same",
    )
    g.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="the Ray cluster for --engine ray: host:port of its head, or 'auto' (default: a local one)",
    )
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    add_engine_settings(g)


class UsageError(Exception):
    pass


def _check_arguments(args: argparse.Namespace) -> None:
    if args.out is None and not args.dry_run:
        raise UsageError("--out FILE is needed: where the result rows go")
    if args.dry_run and (args.resume or args.report):
        raise UsageError("--dry-run calls nothing and writes nothing: it takes no --resume or --report")
    if args.max_concurrency is not None and args.max_concurrency < 1:
        raise UsageError(f"--max-concurrency must be at least 1, not {args.max_concurrency}")
    if not args.max_row_mib > 0:
        raise UsageError(f"--max-row-mib must be more than 0, not {args.max_row_mib}")
    if args.resume and args.data == "-":
        raise UsageError("--resume reads the data again from its start: it cannot be standard input")
    if args.out is not None and args.report is not None and args.out.resolve() == args.report.resolve():
        raise UsageError("--report and --out name the same file")
    if args.ray_address is not None and args.engine != "ray":
        raise UsageError("--ray-address needs --engine ray")
    if args.engine == "ray" and args.compare is not None:
        raise UsageError("--engine ray grades with one grader: --compare runs on the local engine")
    if args.engine == "ray" and args.data == "-":
        raise UsageError("--engine ray reads the data on the cluster: it cannot be standard input")


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from ..engine.command import _overrides as run_overrides

    out = run_overrides(args)
    if args.max_concurrency is not None:
        out.setdefault("models", {})["concurrency"] = args.max_concurrency
    return out


def _load(value: str, err: TextIO) -> Any:
    """A grader, validated with located errors (None when it is invalid, the errors printed)."""
    from ..engine.command import UsageError as RunUsageError
    from ..engine.command import _load_grader
    from ..validation import validate_text
    from ..validation.report import write_text
    from ..validation.run import Report

    try:
        grader, text, name = _load_grader(value)
    except RunUsageError as exc:
        raise UsageError(str(exc).replace("--grader", "the grader")) from None
    problems = validate_text(text, name=name)
    if any(p.severity == "error" for p in problems) or not isinstance(grader, dict):
        write_text([Report(name, 1, problems)], err)
        return None
    for warning in problems:
        print(f"{name}: warning: {warning.describe()}", file=err)
    return grader


def _fingerprint(args: argparse.Namespace, graders: list[Any], data_format: str) -> dict[str, Any]:
    from .results import grader_digest

    def where(path: str | None) -> str | None:
        return None if path is None or path == "-" else str(Path(path).resolve())

    names = ("old", "new") if len(graders) == 2 else ("grader",)
    return {
        "graders": {name: grader_digest(g.grader) for name, g in zip(names, graders, strict=True)},
        "data": where(args.data) or "-",
        "format": data_format,
        "sample_field": args.sample_field,
        "item_field": args.item_field,
        "id_field": args.id_field,
        "samples": where(args.samples),
        "samples_format": args.samples_format,
        "timings": bool(args.timings),
    }


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    from ..engine.compiled import compile_grader
    from ..engine.config import EngineConfig
    from ..engine.errors import GraderInvalid
    from ..errors import GradergenError
    from .readers import detect_format
    from .results import ResultWriter
    from .rows import read_rows

    try:
        _check_arguments(args)
        sources = [args.grader] if args.grader is not None else list(args.compare)
        loaded = [_load(source, err) for source in sources]
        if any(g is None for g in loaded):
            return EXIT_INVALID
        config = EngineConfig.load(args.config, overrides=_overrides(args))
        graders = [compile_grader(g, config) for g in loaded]
        data_format = detect_format(args.data, args.format)
        if args.samples is not None:
            detect_format(args.samples, args.samples_format)
        rows = read_rows(
            args.data,
            data_format,
            sample_field=args.sample_field,
            item_field=args.item_field,
            id_field=args.id_field,
            samples=args.samples,
            samples_format=args.samples_format,
            max_row_bytes=int(args.max_row_mib * 2**20),
        )
        with rows:
            if args.dry_run:
                from .dryrun import dry_run, dry_run_lines
                from .terminal import write_lines

                write_lines(dry_run_lines(dry_run(graders, rows, config)), out)
                _warn(rows.warnings, err)
                return EXIT_DONE
            writer = ResultWriter(
                args.out,
                _fingerprint(args, graders, data_format),
                resume=args.resume,
                overwrite=args.overwrite,
            )
            with writer:
                return _grade(args, graders, rows, writer, config, out, err)
    except UsageError as exc:
        print(f"gradergen grade: error: {exc}", file=err)
        return EXIT_USAGE
    except GraderInvalid as exc:
        print(f"gradergen grade: error: {exc}", file=err)
        return EXIT_INVALID
    except GradergenError as exc:
        print(f"gradergen grade: error: {exc}", file=err)
        return EXIT_USAGE


def _warn(warnings: list[str], err: TextIO) -> None:
    for warning in warnings:
        print(f"gradergen grade: warning: {warning}", file=err)


def _grade(
    args: argparse.Namespace,
    graders: list[Any],
    rows: Any,
    writer: Any,
    config: Any,
    out: TextIO,
    err: TextIO,
) -> int:
    from .pipeline import Job
    from .summary import Comparison
    from .terminal import ProgressBar, comparison_lines, summary_lines, write_lines

    progress = None
    if not args.quiet and err.isatty():
        progress = ProgressBar(rows.total, rows.unit, err)
    concurrency = config.models.concurrency
    window = max(16, 4 * concurrency) if any(_has_model(g.grader) for g in graders) else 256
    job: Job
    if args.engine == "ray":
        from .ray_engine import RayJob, RowSource
        from .readers import detect_format

        source = RowSource(
            str(Path(args.data).resolve()),
            detect_format(args.data, args.format),
            sample_field=args.sample_field,
            item_field=args.item_field,
            id_field=args.id_field,
            samples=None if args.samples is None else str(Path(args.samples).resolve()),
            samples_format=args.samples_format,
            max_row_bytes=int(args.max_row_mib * 2**20),
        )
        job = RayJob(
            graders, rows, writer, source=source, address=args.ray_address, timings=args.timings,
            progress=progress,
        )  # fmt: skip
    else:
        job = Job(graders, rows, writer, timings=args.timings, window=window, progress=progress)
    try:
        summary = job.run()
    except KeyboardInterrupt:
        if progress is not None:
            progress.stop()
        print(
            f"gradergen grade: interrupted after {job.tally.rows:,} rows, all of them in {args.out}; "
            "run the same command with --resume to continue",
            file=err,
        )
        return EXIT_INTERRUPTED
    except BaseException:
        if progress is not None:
            progress.stop()
        raise
    _warn(rows.warnings, err)
    if not args.quiet:
        if isinstance(summary, Comparison):
            pair = (graders[0].name or args.compare[0], graders[1].name or args.compare[1])
            write_lines(comparison_lines(summary, pair), out)
        else:
            write_lines(summary_lines(summary), out)
    if args.report is not None:
        from .report import write_report

        names = [g.name or source for g, source in zip(graders, args.compare or [args.grader], strict=True)]
        write_report(args.report, summary, names, args.data)
        if not args.quiet:
            print(f"report: {args.report}", file=out)
    unreadable = summary.new.unreadable if isinstance(summary, Comparison) else summary.unreadable
    return EXIT_UNREADABLE_ROWS if unreadable else EXIT_DONE


def _has_model(grader: Any) -> bool:
    from .pipeline import MODEL_KINDS, kinds_in

    return bool(kinds_in(grader) & MODEL_KINDS)


def safely(args: argparse.Namespace) -> int:
    return run_guarded("gradergen grade", lambda: run(args))

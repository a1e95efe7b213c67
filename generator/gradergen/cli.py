"""The `gradergen` command."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .engine import command as run_command
from .engine.metrics import data_command
from .engine.sandbox import command as image_command
from .errors import GradergenError
from .grading import command as grade_command
from .languages import declared_options, languages
from .options import Options
from .resources import default_spec
from .server import command as serve_command
from .validation import command as validate_command

if TYPE_CHECKING:
    from .emit.render import Files
    from .tree import TreeChanges


def _generate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "generate",
        help="generate bindings from the spec",
        description="Generate bindings. With --lang all (the default) each language goes to OUT/<lang>; "
        "with one language, to OUT itself when --out is given, else to generated/<lang>.",
    )
    p.add_argument("--spec", type=Path, default=None, help="OpenAPI spec (default: the bundled spec)")
    p.add_argument("--lang", default="all", help="one of: " + ", ".join([*languages(), "all"]))
    p.add_argument("--out", type=Path, default=None, help="output directory (default: generated)")
    for option in declared_options().values():  # each language's namespace options, from its manifest
        p.add_argument(
            option.flag,
            dest=option.key,
            metavar=option.name.upper(),
            default=option.default,
            help=f"{option.help} (default: %(default)s)",
        )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list the files a run would add, change or remove, and exit 1 if there are any",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def _run_generate(args: argparse.Namespace) -> int:
    # A run is short and what it allocates mostly lives to its end, so the cyclic garbage collector
    # only costs time: a fifth of importing datamodel-code-generator. The forked worker inherits this.
    gc.disable()
    from .generate import generate  # not at import: `gradergen validate` needs none
    from .tree import StagedTree, plan_tree

    known = languages()
    if args.lang != "all" and args.lang not in known:
        raise GradergenError(f"unknown language {args.lang!r}: choose one of {', '.join([*known, 'all'])}")
    langs = known if args.lang == "all" else [args.lang]
    options = Options(**{key: getattr(args, key) for key in declared_options()})
    spec = args.spec or default_spec()
    out: Path | None = args.out

    def root_of(lang: str) -> Path:
        if out is None:
            return Path("generated") / lang
        return out / lang if args.lang == "all" else out

    plans: dict[str, TreeChanges] = {}
    staged: dict[str, StagedTree] = {}

    def compare(lang: str, files: Files) -> None:
        # while the worker still runs: each tree's new files are staged, none moved into place yet
        plans[lang] = plan_tree(root_of(lang), files)
        if not args.check:
            staged[lang] = StagedTree(root_of(lang), plans[lang])

    stale = 0
    with _signals_raise():
        try:
            outputs = generate(spec, langs, options, compare)
            for lang, files in outputs.items():
                root = root_of(lang)
                if args.check:
                    stale += _report_changes(lang, root, plans[lang], args.quiet)
                    continue
                written = staged[lang].commit()
                if not args.quiet:
                    print(f"{lang}: {len(files)} files in {root} ({len(written)} changed)")
        finally:  # an error or a signal before every tree was committed: the rest stay as they were
            for tree in reversed(staged.values()):  # the last made first: an earlier root may hold it
                tree.discard()
    if stale:
        print(
            f"gradergen: {stale} generated file{'s' if stale != 1 else ''} out of date: "
            "run the same command without --check",
            file=sys.stderr,
        )
        return 1
    return 0


def _report_changes(lang: str, root: Path, changes: TreeChanges, quiet: bool) -> int:
    """Lists what a real run would do under `root` (always, even with -q: it is the point of --check)."""
    for kind, paths in (("added", changes.added), ("changed", changes.changed), ("removed", changes.removed)):
        for rel in paths:
            print(f"{kind:<8} {root / rel}")
    count = len(changes.added) + len(changes.changed) + len(changes.removed)
    if not count and not quiet:
        print(f"{lang}: {root} is up to date")
    return count


class _Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: raised wherever this process is, so that the cleanup on the way out
    (killing the generation worker, and any formatter running) happens before it dies of the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _signals_raise() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return

    from .background import signals_held  # not at import: `gradergen validate` needs none of it

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated(signum)

    previous = {signum: signal.signal(signum, terminate) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        # Held while the handlers change back: Python drops, with only a warning, a signal that
        # arrived for a Python handler which by the time it runs is no longer there.
        with signals_held():
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _die_of(signum: int) -> int:
    """End as the signal would have ended us, so that the caller sees which one it was."""
    for stream in (sys.stdout, sys.stderr):  # what was printed before the signal is not lost
        stream.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    return 128 + signum  # not reached where the signal kills


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradergen",
        description="Bindings, schema and validation for OpenAI fine-tuning graders, from one spec.",
    )
    parser.add_argument("--version", action="version", version=f"gradergen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _generate_parser(sub)
    validate_command.add_commands(sub)
    run_command.add_commands(sub)
    grade_command.add_commands(sub)
    data_command.add_commands(sub)
    image_command.add_commands(sub)
    serve_command.add_commands(sub)
    sub.add_parser(
        "api",
        help="call the API (run or validate a grader)",
        add_help=False,
        description="Call the graders API: gradergen api fine-tuning:alpha:graders run --grader ...",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["api"]:
        from .api import main as api_main

        return api_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command in validate_command.COMMANDS:
        return validate_command.safely(args)
    if args.command in run_command.COMMANDS:
        return run_command.safely(args)
    if args.command in grade_command.COMMANDS:
        return grade_command.safely(args)
    if args.command in data_command.COMMANDS:
        return data_command.safely(args)
    if args.command in image_command.COMMANDS:
        return image_command.run(args)
    if args.command in serve_command.COMMANDS:
        return serve_command.safely(args)
    try:
        if args.command == "generate":
            return _run_generate(args)
    except GradergenError as exc:
        print(f"gradergen: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except _Terminated as stop:
        return _die_of(stop.signum)
    except Exception as exc:  # a bug of ours: one line for the user, the traceback on request
        if os.environ.get("GRADERGEN_DEBUG"):
            raise
        from .background import WorkerError  # a bug in the generation worker is named as raised there

        what = str(exc) if isinstance(exc, WorkerError) else f"{type(exc).__name__}: {exc}"
        print(
            f"gradergen: internal error: {what} "
            "(set GRADERGEN_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 70
    return 2

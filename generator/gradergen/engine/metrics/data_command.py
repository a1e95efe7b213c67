"""`gradergen data wordnet`: build the WordNet corpus METEOR needs from Debian's WordNet packages."""

from __future__ import annotations

import argparse
from pathlib import Path

from ...errors import run_guarded
from ..errors import EngineError
from . import wordnet

COMMANDS = ("data",)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    data = sub.add_parser(
        "data",
        help="install data the engine's metrics need",
        description="Install data the engine's metrics need, from files on this machine.",
    )
    what = data.add_subparsers(dest="data", metavar="DATA", required=True)
    w = what.add_parser(
        "wordnet",
        help="WordNet 3.0 for the meteor metric, from Debian's wordnet-base and wordnet-sense-index",
        description="Build the nltk WordNet 3.0 corpus METEOR needs (TO/corpora/wordnet) from the WordNet "
        f"database Debian installs ({wordnet.APT_COMMAND}). The engine finds it in ${wordnet.ENV_ROOT}, "
        "then ~/.cache/gradergen/nltk_data, then nltk's data path. Exit status: 0 built or already there, "
        "2 the source is missing or the corpus cannot be written.",
    )
    w.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=wordnet.DEBIAN_SOURCE,
        metavar="DIR",
        help=f"the WordNet database (default: {wordnet.DEBIAN_SOURCE})",
    )
    w.add_argument(
        "--to",
        dest="root",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"the nltk_data directory to write to (default: ${wordnet.ENV_ROOT}, else "
        "~/.cache/gradergen/nltk_data)",
    )
    w.add_argument("--force", action="store_true", help="rebuild even when a complete corpus is there")
    w.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    root = args.root if args.root is not None else wordnet.default_root()
    present = wordnet.is_corpus(root) and not args.force
    corpus = wordnet.build(args.source, root, force=args.force)
    if not args.quiet:
        if present:
            print(f"WordNet 3.0 is already in {corpus} (--force rebuilds it)")
        else:
            size = sum(f.stat().st_size for f in corpus.iterdir())
            print(f"WordNet 3.0 written to {corpus} ({size / 1e6:.0f} MB, from {args.source})")
        if root != wordnet.default_root() and wordnet.find_root() != root:
            print(f"the engine looks there when {wordnet.ENV_ROOT}={root} is set")
    return 0


def safely(args: argparse.Namespace) -> int:
    return run_guarded("gradergen", lambda: run(args), (EngineError,))

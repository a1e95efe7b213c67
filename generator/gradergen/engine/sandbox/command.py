"""`gradergen image build TAG` and `gradergen image list`: the package sets python graders run in."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ...validation.semantics import PYTHON_IMAGE_TAGS

COMMANDS = ("image",)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    image = sub.add_parser(
        "image",
        help="build or list the images python graders run in",
        description="An image is a virtual environment of this machine's CPython 3.11 with a tag's "
        "documented package set, pinned exactly, cached under ~/.cache/gradergen/images "
        "($GRADERGEN_IMAGES). Python graders run in it, inside the sandbox.",
    )
    actions = image.add_subparsers(dest="image_command", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="build an image (once; a current one is left alone)")
    build.add_argument("tag", metavar="TAG", help="one of: " + ", ".join(PYTHON_IMAGE_TAGS))
    build.add_argument("--force", action="store_true", help="build it again even when it is current")
    actions.add_parser("list", help="the known images and whether each is built")


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from ..errors import EngineError
    from . import image

    if args.image_command == "list":
        rows = image.listing()
        width = max(len(tag) for tag, _, _ in rows)
        for tag, state, where in rows:
            out.write(f"{tag.ljust(width)}  {state:<18}  {where}\n")
        return 0
    if args.tag not in PYTHON_IMAGE_TAGS:
        print(
            f"gradergen: error: unknown image {args.tag!r}: known: {', '.join(PYTHON_IMAGE_TAGS)}", file=err
        )
        return 2
    try:
        image.build(args.tag, force=args.force, log=lambda line: print(line, file=out, flush=True))
    except EngineError as exc:
        print(f"gradergen: error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0

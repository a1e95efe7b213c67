"""spec → IR → per-language files on disk."""

from __future__ import annotations

import os
from pathlib import Path

from .emit.render import Files, render
from .errors import GradergenError
from .ir.build import build_ir
from .ir.model import IR
from .options import Options
from .spec import load_spec

FILE_LIST = ".gradergen-files"
"""Written into each output root: the files the last run wrote, so the next run can remove stale ones."""


def load_ir(spec: Path) -> IR:
    return build_ir(load_spec(spec), source=str(spec))


def generate(spec: Path, langs: list[str], options: Options) -> dict[str, Files]:
    ir = load_ir(spec)
    return {lang: render(lang, ir, options) for lang in langs}


def write_tree(root: Path, files: Files) -> list[str]:
    """Write `files` under `root`, touching only files whose content changed, and remove the files a
    previous run wrote that this one no longer does. Returns the paths written."""
    root.mkdir(parents=True, exist_ok=True)
    listing = root / FILE_LIST
    previous = set(listing.read_text(encoding="utf-8").split()) if listing.is_file() else set()
    written: list[str] = []
    for rel in sorted(files):
        target = root / rel
        if not target.resolve().is_relative_to(root.resolve()):
            raise GradergenError(f"refusing to write outside the output directory: {rel}")
        data = files[rel].encode("utf-8")
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written.append(rel)
    for rel in sorted(previous - set(files)):
        stale = root / rel
        if stale.is_file():
            stale.unlink()
            _remove_empty_parents(stale.parent, root)
    new_listing = "".join(f"{rel}\n" for rel in sorted(files))
    if not listing.is_file() or listing.read_text(encoding="utf-8") != new_listing:
        listing.write_text(new_listing, encoding="utf-8")
    return written


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent

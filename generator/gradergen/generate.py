"""spec → IR → per-language files on disk."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from .emit.render import Files, format_files, load_manifest, prepare, render_templates, run_steps
from .emit.steps import warm_up
from .errors import GradergenError, SpecError
from .ir.build import build_ir
from .ir.model import IR
from .options import Options
from .spec import load_spec

FILE_LIST = ".gradergen-files"
"""Written into each output root: the files the last run wrote, so the next run can remove stale ones."""


def load_ir(spec: Path) -> IR:
    return build_ir(load_spec(spec), source=str(spec))


@contextmanager
def _located(spec: Path) -> Iterator[None]:
    """Errors found after the spec was read (naming a clash, say) name the spec file too."""
    try:
        yield
    except SpecError as exc:
        if exc.source:
            raise
        raise SpecError(exc.pointer, exc.message, str(spec)) from None


def generate(spec: Path, langs: list[str], options: Options) -> dict[str, Files]:
    """Render every language. Steps that are not templates (datamodel-code-generator, slow mostly to
    import) run in a forked process that starts importing at once, while this process loads the spec
    and renders and formats the templates: the two cores share the work."""
    with_steps = [lang for lang in langs if load_manifest(lang).steps]
    with _background(warm=bool(with_steps)) as pool, _located(spec):
        ir = load_ir(spec)
        prepared = {lang: prepare(lang, ir, options) for lang in langs}
        pending = {lang: pool.submit(run_steps, lang, ir, options) for lang in with_steps} if pool else {}
        outputs = {lang: format_files(p, render_templates(p, ir)) for lang, p in prepared.items()}
        for lang in with_steps:
            produced = pending[lang].result() if pool else run_steps(lang, ir, options)
            outputs[lang].update(format_files(prepared[lang], produced))
    return outputs


@contextmanager
def _background(warm: bool) -> Iterator[ProcessPoolExecutor | None]:
    """A one-process pool forked from this one, already importing what the steps need; None where
    fork does not exist (the steps then run here)."""
    if not warm or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=warm_up) as pool:
        pool.submit(int)  # starts the worker now, so its imports overlap with our own work
        yield pool


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

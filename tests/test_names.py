"""Naming returns each language's names and leaves the IR alone; one generation names each language once."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from gradergen.emit.render import naming_table, prepare, render_templates, run_steps
from gradergen.generate import generate, load_ir
from gradergen.ir.model import Struct, Union
from gradergen.languages import languages, load_manifest
from gradergen.naming import base
from gradergen.naming.base import FALLBACK, apply_naming
from gradergen.naming.names import NotNamed
from gradergen.options import Options

from harness import SPEC


def test_the_ir_is_the_same_after_every_language_is_named_and_rendered() -> None:
    ir = load_ir(SPEC)
    before = pickle.dumps(ir)
    for lang in languages():
        prepared = prepare(lang, ir, Options())
        render_templates(prepared, ir)
        run_steps(prepared, ir, Options())
        assert pickle.dumps(ir) == before, f"rendering {lang} changed the IR"


def test_each_language_has_its_own_names_of_the_same_node() -> None:
    ir = load_ir(SPEC)
    operation = ir.types["StringCheckGraderOperation"]
    spelled = {lang: apply_naming(ir, naming_table(lang))(operation) for lang in ("go", "ruby", "python")}
    assert spelled == {
        "go": "StringCheckGraderOperation",
        "ruby": "Operation",
        "python": "StringCheckGraderOperation",
    }
    grader = ir.types["Grader"]
    assert isinstance(grader, Union)
    assert apply_naming(ir, naming_table("go"))(grader, FALLBACK) == "Unknown"
    assert apply_naming(ir, naming_table("typescript"))(grader, FALLBACK) == "UnknownGrader"


def test_a_node_without_a_name_is_a_clear_error() -> None:
    ir, other = load_ir(SPEC), load_ir(SPEC)
    names = apply_naming(ir, naming_table("go"))
    struct = next(t for t in other.types.values() if isinstance(t, Struct))
    with pytest.raises(NotNamed, match=rf"^go: no name for the Struct '{struct.pointer}'$"):
        names(struct)  # a node of another IR: equal, but not the one named
    mine = ir.types[struct.name]
    assert names(mine)
    with pytest.raises(NotNamed, match=r"^go: no 'async' name for the Struct"):
        names(mine, "async")


def test_names_are_read_only_once_returned() -> None:
    ir = load_ir(SPEC)
    names = apply_naming(ir, naming_table("ruby"))
    t = next(iter(ir.types.values()))
    with pytest.raises(RuntimeError, match="read-only"):
        names.record(t, "Other")
    assert names(t) != "Other"


def test_names_travel_with_their_ir() -> None:
    """What the generation worker would receive: the names pickled with the IR still find its nodes."""
    ir = load_ir(SPEC)
    names = apply_naming(ir, naming_table("java"))
    copy = pickle.loads(pickle.dumps(names))
    assert copy.ir is not ir and len(copy) == len(names)
    for name, t in ir.types.items():
        assert copy(copy.ir.types[name]) == names(t)


def test_one_generation_names_each_language_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Counted in this process and in the forked worker alike (each naming appends a line to a file): every
    language is named once, here; the worker gets the names with the IR."""
    log = tmp_path / "namings"
    run = base._NamingPass.run

    def counted(self: Any) -> Any:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {self.lang}\n")
        return run(self)

    monkeypatch.setattr(base._NamingPass, "run", counted)
    langs = languages()
    assert any(load_manifest(lang).in_background for lang in langs), "no language uses the worker"
    outputs = generate(SPEC, langs, Options())
    assert sorted(outputs) == sorted(langs)
    named = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted(lang for _, lang in named) == sorted(load_manifest(lang).naming for lang in langs)
    assert {pid for pid, _ in named} == {str(os.getpid())}, f"the worker named a language: {named}"

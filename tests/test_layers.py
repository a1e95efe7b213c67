"""The package's parts import downward only: code generation (spec → ir → naming → emit) knows nothing of
validation, the engine or the server; validation reads the IR and nothing of code generation above it;
the engine, the server and batch grading sit on top. Read from every module's imports (lazy ones too)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ROOT

PACKAGE = ROOT / "generator" / "gradergen"

LAYERS: dict[str, int] = {
    # shared text and process utilities
    "errors": -1,
    "resources": 0,
    "lazy": 0,
    "spectext": 0,
    "literals": 1,
    "background": 0,
    # code generation, in pipeline order
    "languages": 1,
    "options": 2,
    "spec": 2,
    "ir": 3,
    "naming": 4,
    "emit": 5,
    "generate": 6,
    "tree": 6,  # writing what generate made
    # the grader language, validation, the engine, and what is built on them
    "language": 3,
    "validation": 4,
    "engine": 5,
    "server": 7,  # it also serves a reward (OpenRLHF)
    "grading": 6,
    "rewards": 6,
    "bindings": 2,  # the generated Python models, which the engine's results are
    # entry points
    "api": 8,
    "cli": 9,
    "__main__": 10,
    "__init__": 10,
}
CODEGEN = {"languages", "options", "spec", "ir", "naming", "emit", "generate", "tree"}
"""Parts that no grader-running part may import but the spec and its IR, which both read."""
SHARED = {"spec", "ir"}
RUNNING = {"language", "validation", "engine", "server", "grading", "rewards"}


def part(module: str) -> str:
    """`gradergen.naming.java` → `naming`."""
    return module.split(".")[1] if "." in module else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The gradergen modules `path` imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("gradergen.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("gradergen."):
                found.add(target)
            elif target == "gradergen":  # a submodule, or a name of the package itself (__version__)
                found |= {f"gradergen.{alias.name}" for alias in node.names if _exists(alias.name)}
    return {t for t in found if _exists(t.split(".")[1])}  # not gradergen._client, which the wheel adds


def _exists(name: str) -> bool:
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name).is_dir()


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "_data" not in p.parts)


def test_every_part_has_a_layer() -> None:
    parts = {part(module_name(p)) for p in MODULES}
    assert parts <= set(LAYERS), f"parts without a layer: {sorted(parts - set(LAYERS))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_go_downward(path: Path) -> None:
    here = part(module_name(path))
    for target in sorted(imports_of(path)):
        there = part(target)
        if there == here:
            continue
        where = f"{module_name(path)} imports {target}"
        assert LAYERS[there] < LAYERS[here], f"{where}: {there} is not below {here}"
        if here in RUNNING:
            assert there not in CODEGEN - SHARED, f"{module_name(path)} imports code generation ({target})"


HEAVY_AT_START = ("openai_graders", "pydantic", "datamodel_code_generator", "jinja2", "starlette", "uvicorn")
"""What `gradergen --help`, `gradergen validate` and every other command must not pay for at start-up:
each command imports what it runs when it runs."""


def test_the_command_line_starts_without_the_engine_or_the_generator() -> None:
    probe = "import sys, gradergen.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(ast.literal_eval(result.stdout))
    assert loaded.isdisjoint(HEAVY_AT_START), sorted(loaded & set(HEAVY_AT_START))


def test_the_lazy_exports_are_the_modules_names() -> None:
    import gradergen.engine
    import gradergen.grading

    for package in (gradergen.engine, gradergen.grading):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
        with pytest.raises(AttributeError, match="no attribute 'missing'"):
            package.missing  # noqa: B018

"""A model's file imports what its code names, less the classes it declares. Those are known from the IR
(the type and the types nested in it) rather than looked for in its text: the two must agree on every
file, or a file would import a class its own nested one shadows (and javac would refuse the name)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_java import hostile_spec

from gradergen.emit.render import prepare, render_templates
from gradergen.generate import load_ir
from gradergen.ir.model import NamedType
from gradergen.options import Options

from harness import SPEC

OPERATIONS_PACKAGE = "com.openai.graders.models.finetuning.alpha.graders"


def shadowing_spec(directory: Path) -> Path:
    """GraderRunParams (in the operations' package) nests a class Label and refers to the top-level
    Label of the graders' package: the nested one is declared in the file, the other may not be
    imported there."""
    doc: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    schemas = doc["components"]["schemas"]
    schemas["GraderRunParamsLabel"] = {"type": "object", "properties": {"x": {"type": "string"}}}
    schemas["Label"] = {"type": "object", "properties": {"y": {"type": "string"}}}
    schemas["StringCheckGrader"]["properties"]["label"] = {"$ref": "#/components/schemas/Label"}
    params = schemas["GraderRunParams"]["properties"]
    params["own_label"] = {"$ref": "#/components/schemas/GraderRunParamsLabel"}
    params["shared_label"] = {"$ref": "#/components/schemas/Label"}
    path = directory / "shadowing.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def model_units(spec: Path) -> list[tuple[str, str, str, str]]:
    """Each model file's body and package, its unit as generated (imports from the IR's declarations),
    and its unit with the declarations looked for in the text instead."""
    ir = load_ir(spec)
    prepared = prepare("java", ir, Options())
    unit = prepared.env.globals["java_unit"]
    seen: list[tuple[str, str, str, str]] = []

    def spying(body: str, package: str, declares: NamedType | None = None) -> str:
        made: str = unit(body, package, declares)
        if declares is not None:
            seen.append((prepared.names(declares), package, made, unit(body, package)))
        return made

    prepared.env.globals["java_unit"] = spying
    render_templates(prepared, ir)
    return seen


@pytest.mark.parametrize("which", ["canonical", "hostile", "shadowing"])
def test_declared_classes_from_the_ir_agree_with_the_source(tmp_path: Path, which: str) -> None:
    spec = {
        "canonical": lambda: SPEC,
        "hostile": lambda: hostile_spec(tmp_path),
        "shadowing": lambda: shadowing_spec(tmp_path),
    }[which]()
    units = model_units(spec)
    assert len(units) > 20  # every model file went through java_unit, with the type it declares
    for name, _package, made, scanned in units:
        assert made == scanned, name


def test_a_nested_class_shadows_the_top_level_one_of_its_name(tmp_path: Path) -> None:
    units = {
        name: made
        for name, package, made, _ in model_units(shadowing_spec(tmp_path))
        if package == OPERATIONS_PACKAGE
    }
    params = units["GraderRunParams"]
    assert "import com.openai.graders.models.graders.gradermodels.Label;" not in params
    assert "public static final class Label {" in params
    assert "com.openai.graders.models.graders.gradermodels.Label sharedLabel" in params

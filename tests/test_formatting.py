"""Generated Python is formatted by ruff (black's style, 100 columns) with fixed settings of our own."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradergen.errors import GradergenError
from gradergen.languages import function_beside

from harness import GENERATED, committed_tree, gradergen


def test_python_is_formatted_in_blacks_style() -> None:
    source = {"pkg/m.py": "x = {'a':1,\n 'b':[1,2]}\ndef f( a ):\n  return a\n", "README.md": "kept  as is\n"}
    assert function_beside("python", "format.py", "format_files")(source) == {
        "pkg/m.py": 'x = {"a": 1, "b": [1, 2]}\n\n\ndef f(a):\n    return a\n',
        "README.md": "kept  as is\n",
    }


def test_invalid_generated_python_is_a_clear_error() -> None:
    with pytest.raises(GradergenError, match=r"generated Python is not valid: .*src/broken\.py:1:5"):
        function_beside("python", "format.py", "format_files")({"src/broken.py": "def (:\n"})


def test_the_callers_ruff_settings_change_nothing(tmp_path: Path) -> None:
    (tmp_path / "ruff.toml").write_text('line-length = 40\n[format]\nquote-style = "single"\n')
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 40\n")
    result = gradergen("generate", "--lang", "python", "--out", "out", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    produced = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert produced == committed_tree(GENERATED / "python")

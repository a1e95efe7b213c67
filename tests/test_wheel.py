"""The installed wheel works outside this repo: it carries the spec, the templates and the API client."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from gradergen.languages import languages

from harness import GENERATED, committed_tree, json_equal, load_fixture, run
from mock_server import MockServer


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    """The wheel `make dist` built (the session's `dist` fixture)."""
    (built,) = (dist / "gradergen").glob("gradergen-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(installed_gradergen: Path) -> Path:
    """A fresh virtualenv with only that wheel (and its pinned dependencies) installed, shared with the
    release tests."""
    return installed_gradergen.parent


def test_wheel_carries_spec_templates_and_client(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "gradergen/_data/spec/graders.openapi.yaml" in names
    assert "gradergen/_data/templates/python/manifest.yaml" in names
    assert "gradergen/_client/models.py" in names


@pytest.mark.parametrize("lang", languages())
def test_installed_gradergen_generates_outside_the_repo(lang: str, installed: Path, tmp_path: Path) -> None:
    gradergen = str(installed / "bin" / "gradergen")
    run([gradergen, "generate", "--lang", lang, "--out", "out", "-q"], cwd=tmp_path)
    out = tmp_path / "out"
    produced = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert produced == committed_tree(GENERATED / lang)


def test_installed_gradergen_calls_the_api(installed: Path, mock_server: MockServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    grader = "{input: input, name: name, operation: eq, reference: reference, type: string_check}"
    result = subprocess.run(
        [
            str(installed / "bin" / "gradergen"),
            "api",
            "fine-tuning:alpha:graders",
            "validate",
            "--grader",
            grader,
            "--api-key",
            "k",
            "--base-url",
            mock_server.url,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json_equal(json.loads(result.stdout), load_fixture("responses/validate/000_cli.json"))
    assert json_equal(mock_server.requests[0]["json"], load_fixture("requests/validate/000_cli.json"))

"""What the release tests share: `make dist` into a temporary directory, clean virtualenvs, a local Maven
repository that sees the machine's caches but not our own artifacts, and the spec's version."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

from harness import ROOT, SPEC, require_tool, run

MAVEN_CACHE = Path.home() / ".m2" / "repository"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


def spec_version() -> str:
    version: str = yaml.safe_load(SPEC.read_text(encoding="utf-8"))["info"]["version"]
    return version


def make_dist(out: Path) -> Path:
    """`make dist` into out/dist (its build directory beside it), as a release would run it, but from
    generated/ as it is: `-o generated/.stamp` keeps make from regenerating it first, which would
    rewrite the tree the drift test compares."""
    make = require_tool("make")
    dist = out / "dist"
    command = [make, "-C", str(ROOT), "--no-print-directory", "-o", "generated/.stamp", "dist"]
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    run([*command, f"DIST={dist}", f"DIST_BUILD={out / 'build'}"], env={"PATH": path}, timeout=1800)
    return dist


def make_venv(directory: Path) -> Path:
    """A fresh virtualenv with nothing of this repo's installed; returns its bin directory."""
    run([sys.executable, "-m", "venv", str(directory)])
    return directory / "bin"


def pip_install(bin_dir: Path, *what: str) -> None:
    # no bytecode at install: Python writes it for the modules a test imports, a fraction of the whole
    pip = [str(bin_dir / "pip"), "install", "-q", "--disable-pip-version-check", "--no-compile"]
    run([*pip, *what], timeout=900)


def one(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        pytest.fail(f"expected one {pattern} in {directory}, found {[p.name for p in found]}", pytrace=False)
    return found[0]


def overlay_repository(overlay: Path, hidden: list[str]) -> Path:
    """A Maven local repository that is the machine's (~/.m2/repository, through symlinks: what Maven
    downloads lands in the real cache) except for the directory `hidden` (a groupId's path plus the
    artifactId), which starts empty. So an artifact of ours resolves from the repository the test names,
    every run, and never leaves a copy in the machine's cache that a later run would take instead."""
    MAVEN_CACHE.mkdir(parents=True, exist_ok=True)
    real, copy = MAVEN_CACHE, overlay
    for depth, part in enumerate(hidden):
        copy.mkdir(parents=True, exist_ok=True)
        for entry in real.iterdir() if real.is_dir() else []:
            if entry.name != part:
                (copy / entry.name).symlink_to(entry)
        real, copy = real / part, copy / part
        if depth == len(hidden) - 1:
            copy.mkdir()
    return overlay

"""`gradergen generate --check`: lists what a real run would add, change or remove, writes nothing, exits 1.

The lists are judged against what a real run then does to a copy of the same directory, so "would change"
is checked against the writer itself (formatting included), not against a second model of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from gradergen.errors import GradergenError
from gradergen.tree import FILE_LIST, plan_tree, write_tree

from harness import SPEC, gradergen


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root with its bytes and modification time: what "writes nothing" must keep."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def contents(root: Path) -> dict[str, bytes]:
    return {rel: data for rel, (data, _) in snapshot(root).items()}


def changed_by_a_real_run(before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, list[str]]:
    return {
        "added": sorted(set(after) - set(before)),
        "changed": sorted(rel for rel in set(before) & set(after) if before[rel] != after[rel]),
        "removed": sorted(set(before) - set(after)),
    }


def listed(stdout: str, root: Path) -> dict[str, list[str]]:
    """The --check lines (`added    path`) by kind, paths relative to root."""
    out: dict[str, list[str]] = {"added": [], "changed": [], "removed": []}
    for line in stdout.splitlines():
        kind, _, path = line.partition(" ")
        if kind in out:
            out[kind].append(str(Path(path.strip()).relative_to(root)))
    return {kind: sorted(paths) for kind, paths in out.items()}


# --------------------------------------------------------------------------- plan_tree
def test_plan_of_an_empty_directory_adds_every_file_and_the_listing(tmp_path: Path) -> None:
    changes = plan_tree(tmp_path / "out", {"a.txt": "1\n", "sub/b.txt": "2\n"})
    assert changes.added == [FILE_LIST, "a.txt", "sub/b.txt"]
    assert changes.changed == [] and changes.removed == []
    assert not (tmp_path / "out").exists()


def test_plan_after_a_write_is_empty_and_sees_each_kind_of_change(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.txt": "1\n", "sub/b.txt": "2\n", "c.txt": "3\n"})
    (tmp_path / "mine.txt").write_text("a file of the user's")
    assert not plan_tree(tmp_path, {"a.txt": "1\n", "sub/b.txt": "2\n", "c.txt": "3\n"})
    (tmp_path / "c.txt").write_text("edited by hand\n")
    before = snapshot(tmp_path)
    changes = plan_tree(tmp_path, {"a.txt": "1 changed\n", "c.txt": "3\n", "d.txt": "4\n"})
    assert snapshot(tmp_path) == before  # nothing written, nothing touched
    assert changes.added == ["d.txt"]
    assert changes.changed == [FILE_LIST, "a.txt", "c.txt"]  # c.txt: a hand edit is a change too
    assert changes.removed == ["sub/b.txt"]  # mine.txt was never generated: not ours to remove


def test_plan_matches_what_write_tree_then_does(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.txt": "1\n", "sub/b.txt": "2\n", "é/ü.txt": "3\n"})
    files = {"a.txt": "1\n", "é/ü.txt": "changed\n", "new/x.txt": "x\n"}
    changes = plan_tree(tmp_path, files)
    before = contents(tmp_path)
    write_tree(tmp_path, files)
    real = changed_by_a_real_run(before, contents(tmp_path))
    assert real == {"added": changes.added, "changed": changes.changed, "removed": changes.removed}


def test_plan_refuses_paths_outside_the_root(tmp_path: Path) -> None:
    with pytest.raises(GradergenError, match=r"outside the output directory: \.\./escape\.txt"):
        plan_tree(tmp_path / "out", {"../escape.txt": "x"})
    assert not (tmp_path / "escape.txt").exists()


def test_a_listing_naming_a_file_outside_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "out", tmp_path / "precious.txt"
    write_tree(root, {"a.txt": "1\n"})
    outside.write_text("not generated")
    (root / FILE_LIST).write_text("a.txt\n../precious.txt\n")
    for step in (plan_tree, write_tree):
        with pytest.raises(GradergenError, match=r"names \.\./precious\.txt, outside the output directory"):
            step(root, {"a.txt": "1\n"})
    assert outside.read_text() == "not generated"


# --------------------------------------------------------------------------- the command
def check(*args: str) -> tuple[int, str, str]:
    result = gradergen("generate", *args, "--check")
    return result.returncode, result.stdout, result.stderr


def test_check_on_an_empty_directory_lists_everything_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bindings"
    code, stdout, stderr = check("--lang", "go", "--out", str(out))
    assert code == 1, stderr
    kinds = listed(stdout, out)
    assert "models.go" in kinds["added"] and FILE_LIST in kinds["added"]
    assert kinds["changed"] == [] and kinds["removed"] == []
    count = len(kinds["added"])
    assert stderr == f"gradergen: {count} generated files out of date: run the same command without --check\n"
    assert not out.exists()


def test_check_after_a_run_is_clean_and_quiet_with_q(tmp_path: Path) -> None:
    out = tmp_path / "bindings"
    assert gradergen("generate", "--lang", "ruby", "--out", str(out), "-q").returncode == 0
    before = snapshot(out)
    assert check("--lang", "ruby", "--out", str(out)) == (0, f"ruby: {out} is up to date\n", "")
    assert check("--lang", "ruby", "--out", str(out), "-q") == (0, "", "")
    assert snapshot(out) == before


def test_check_lists_exactly_what_a_real_run_then_changes(tmp_path: Path) -> None:
    """A new package name moves every Java file (added and removed), and the pom changes; a changed
    description in the spec changes a formatted file. The listing of --check must be what the run does."""
    doc = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    doc["components"]["schemas"]["StringCheckGrader"]["description"] = "A description that changed."
    changed_spec = tmp_path / "changed.yaml"
    changed_spec.write_text(yaml.safe_dump(doc), encoding="utf-8")
    checked, real = tmp_path / "checked", tmp_path / "real"
    assert (
        gradergen(
            "generate", "--lang", "java", "--java-package", "com.acme.a", "--out", str(checked)
        ).returncode
        == 0
    )
    (checked / "src" / "main" / "java" / "NOTES.txt").write_text("not generated: stays")
    shutil.copytree(checked, real)
    args = ["--lang", "java", "--java-package", "com.acme.b", "--spec", str(changed_spec)]

    before = snapshot(checked)
    code, stdout, stderr = check(*args, "--out", str(checked), "-q")
    assert snapshot(checked) == before
    assert code == 1, stderr

    real_before = contents(real)
    result = gradergen("generate", *args, "--out", str(real), "-q")
    assert result.returncode == 0, result.stderr
    expected = changed_by_a_real_run(real_before, contents(real))
    assert all(expected.values())  # each kind occurs, so each is compared
    assert listed(stdout, checked) == expected
    assert check(*args, "--out", str(real))[0] == 0


def test_check_of_every_language_names_each_root(tmp_path: Path) -> None:
    assert gradergen("generate", "--out", str(tmp_path), "-q").returncode == 0
    stale = tmp_path / "python" / "README.md"
    stale.write_text("edited\n", encoding="utf-8")
    code, stdout, stderr = check("--out", str(tmp_path))
    assert code == 1
    assert f"changed  {stale}\n" in stdout
    assert "go: " in stdout and "is up to date" in stdout
    assert stale.read_text(encoding="utf-8") == "edited\n"
    assert stderr == "gradergen: 1 generated file out of date: run the same command without --check\n"


def test_check_with_a_bad_spec_is_an_error_not_a_difference(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: [not, an, object]\n", encoding="utf-8")
    code, stdout, stderr = check("--lang", "go", "--spec", str(bad), "--out", str(tmp_path / "out"))
    assert code == 2 and stdout == ""
    assert stderr.startswith("gradergen: error: ") and str(bad) in stderr
    assert not (tmp_path / "out").exists()

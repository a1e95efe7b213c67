"""Writing an output tree: a run stages each tree's new files inside its root while the generation
worker still runs, and moves them into place only once every language has generated. Until then the
tree is as it was; an error or a signal takes the staging away again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from gradergen.tree import FILE_LIST, STAGING, StagedTree, plan_tree, write_tree


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_staged_files_change_nothing_until_the_commit(tmp_path: Path) -> None:
    root = tmp_path / "out"
    write_tree(root, {"a.txt": "1\n", "sub/old.txt": "gone\n"})
    before = files_under(root)
    staged = StagedTree(root, plan_tree(root, {"a.txt": "2\n", "sub/b.txt": "3\n"}))
    staging = [p.name for p in root.iterdir() if p.name.startswith(STAGING)]
    assert staging == [f"{STAGING}{os.getpid()}"]
    assert {rel: data for rel, data in files_under(root).items() if not rel.startswith(STAGING)} == before
    assert staged.commit() == ["a.txt", "sub/b.txt"]
    staged.discard()
    assert files_under(root) == {"a.txt": b"2\n", "sub/b.txt": b"3\n", FILE_LIST: b"a.txt\nsub/b.txt\n"}


def test_a_discarded_staging_leaves_the_tree_as_it_was(tmp_path: Path) -> None:
    root = tmp_path / "out"
    write_tree(root, {"a.txt": "1\n"})
    before = files_under(root)
    StagedTree(root, plan_tree(root, {"a.txt": "2\n", "b.txt": "3\n"})).discard()
    assert files_under(root) == before
    assert sorted(p.name for p in root.iterdir()) == sorted(["a.txt", FILE_LIST])


def test_a_root_the_staging_made_goes_with_it(tmp_path: Path) -> None:
    root = tmp_path / "new" / "out"
    StagedTree(root, plan_tree(root, {"a.txt": "1\n"})).discard()
    assert list(tmp_path.iterdir()) == []


def test_staging_left_by_a_killed_run_is_removed_and_a_live_runs_kept(tmp_path: Path) -> None:
    root = tmp_path / "out"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    abandoned = root / f"{STAGING}{int(dead.stdout)}"
    live = root / f"{STAGING}1"  # init: alive, and not ours
    for directory in (abandoned, live):
        (directory / "sub").mkdir(parents=True)
        (directory / "sub" / "x.txt").write_text("half\n")
    write_tree(root, {"a.txt": "1\n"})
    assert not abandoned.exists() and live.is_dir()


def test_a_failing_run_leaves_an_existing_tree_untouched_and_no_staging(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = subprocess.run(
        [str(Path(sys.executable).parent / "gradergen"), "generate", "--out", str(out), "-q"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    edited = out / "go" / "client.go"
    edited.write_text("// edited\n")  # the failing run stages the real file, then must discard it
    before = files_under(out)
    script = textwrap.dedent(
        """
        import sys
        from gradergen import cli
        from gradergen.errors import GradergenError
        from gradergen.languages import beside
        def failing(ir, table, names, options):
            raise GradergenError("datamodel-code-generator failed on the spec: no")
        beside("python", "models.py").generate = failing
        sys.exit(cli.main(["generate", "--out", sys.argv[1]]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert files_under(out) == before
    assert not [p for p in out.rglob(STAGING + "*")]


def test_an_output_that_cannot_be_written_is_one_error_line(tmp_path: Path) -> None:
    from harness import gradergen

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    for out, why in ((blocker, "File exists"), (blocker / "sub", "Not a directory")):
        result = gradergen("generate", "--lang", "jsonschema", "--out", str(out))
        assert result.returncode == 2, result.stderr
        assert result.stderr == f"gradergen: error: cannot write the output in {out}: {why} ({out})\n"
    assert blocker.read_text() == "not a directory\n" and list(tmp_path.iterdir()) == [blocker]

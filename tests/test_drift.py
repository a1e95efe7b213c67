"""The drift check: regenerating gives generated/ byte for byte, for every language."""

from __future__ import annotations

from pathlib import Path

from gradergen.languages import languages

from harness import GENERATED, committed_tree, gradergen


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_language_is_committed() -> None:
    committed = sorted({Path(p).parts[0] for p in committed_tree(GENERATED)})
    assert committed == languages()


def test_regenerating_reproduces_generated_byte_for_byte(tmp_path: Path) -> None:
    result = gradergen("generate", "--lang", "all", "--out", str(tmp_path), "-q")
    assert result.returncode == 0, result.stderr
    for lang in languages():
        fresh, committed = tree(tmp_path / lang), committed_tree(GENERATED / lang)
        missing = sorted(set(fresh) - set(committed))
        extra = sorted(set(committed) - set(fresh))
        changed = sorted(p for p in set(fresh) & set(committed) if fresh[p] != committed[p])
        assert (missing, extra, changed) == ([], [], []), (
            f"generated/{lang} is out of date (run `make generate`): "
            f"missing {missing}, not generated any more {extra}, different {changed}"
        )

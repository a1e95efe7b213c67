"""Property-based fuzzing of the validator: broken graders never raise, and every problem is placed.

Valid corpus graders are mutated (fields dropped and renamed, types changed, tags swapped, templates
and formulas corrupted) and checked through every entry point. Derandomized: the same examples run
every time, a few hundred of them, in seconds.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import gradergen
from gradergen.validation.check import bundled_validator
from gradergen.validation.fast import INVALID

from harness import ROOT

CORPUS = ROOT / "tests" / "validate_corpus" / "valid"
FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _seeds() -> list[Any]:
    out: list[Any] = []
    for path in sorted(CORPUS.iterdir()):
        text = path.read_text()
        if path.suffix == ".jsonl":
            out.extend(json.loads(line) for line in text.splitlines() if line.strip())
        elif path.suffix == ".json":
            out.append(json.loads(text))
        else:
            out.extend(yaml.safe_load_all(text))
    return out


SEEDS = _seeds()
TAGS = [
    "string_check",
    "text_similarity",
    "python",
    "score_model",
    "label_model",
    "multi",
    "input_text",
    "output_text",
    "input_image",
    "input_audio",
    "message",
    "strng_check",
    "",
]
NOISE = [
    "{{",
    "}}",
    "{{ items.x }}",
    "{{ sample }}",
    "{{ sample.output_txt }}",
    "{{ item.a[x] }}",
    " + ",
    ")",
    "(",
    "**",
    "%",
    "max(",
    ",",
    "\x00",
    "\ud800",
    "def grade(s):",
    "\n\tx",
    "é",
    "neq",
    "rouge-l",
]
SCHEMA = Draft202012Validator(gradergen.grader_schema())
finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), finite, st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def all_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(all_paths(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(all_paths(value, (*path, i)))
    return out


def get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(all_paths(doc)))
        value = get(doc, path)
        parent = get(doc, path[:-1]) if path else None
        how = draw(st.sampled_from(["drop", "rename", "retype", "corrupt", "tag", "empty", "duplicate"]))
        if how == "drop" and parent is not None:
            del parent[path[-1]]
        elif how == "rename" and isinstance(parent, dict):
            new = draw(
                st.sampled_from(
                    ["", "typo", f"{path[-1]}x", str(path[-1])[:-1], "type", "pass_threshold", "$schema"]
                )
            )
            parent[new] = parent.pop(path[-1])
        elif how == "retype":
            replacement = draw(values)
            if parent is None:
                doc = replacement
            else:
                parent[path[-1]] = replacement
        elif how == "corrupt" and isinstance(value, str) and parent is not None:
            noise = draw(st.sampled_from(NOISE))
            cut = draw(st.integers(0, len(value)))
            parent[path[-1]] = value[:cut] + noise + value[cut:]
        elif how == "tag" and isinstance(value, dict):
            value["type"] = draw(st.sampled_from(TAGS))
        elif how == "empty" and isinstance(value, (dict, list)):
            value.clear()
        elif how == "duplicate" and isinstance(value, list) and value:
            value.append(copy.deepcopy(value[0]))
    return doc


def escape(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def resolves(doc: Any, pointer: str) -> bool:
    node = doc
    for raw in pointer.split("/")[1:] if pointer else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def parent_of(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0] if pointer else ""


@FUZZ
@given(mutated())
def test_mutated_graders_never_raise_and_every_problem_is_placed(doc: Any) -> None:
    problems = gradergen.validate(doc)
    for p in problems:
        assert p.severity in ("error", "warning") and p.message
        assert resolves(doc, p.pointer) or resolves(doc, parent_of(p.pointer)), p
    if not isinstance(doc, dict):
        assert [p.code for p in problems] == ["input"]
        return
    validator = bundled_validator()
    stripped = {k: v for k, v in doc.items() if k != "$schema"}
    schema_valid = SCHEMA.is_valid(stripped)
    assert schema_valid == (not validator.deep[validator.shape.kind_of(stripped)](stripped) & INVALID)
    if not schema_valid:
        assert any(p.severity == "error" for p in problems)
    else:
        assert not any(p.code.startswith("schema.") for p in problems), problems
    if not any(p.code in ("placement", "multi-graders") for p in problems):
        # each failing value checked on its own gives the errors of checking the whole document
        whole = {"".join(f"/{escape(x)}" for x in e.absolute_path) for e in SCHEMA.iter_errors(stripped)}
        assert {p.pointer for p in problems if p.code.startswith("schema.")} == whole


@FUZZ
@given(mutated())
def test_located_problems_point_at_their_value(doc: Any) -> None:
    text = json.dumps(doc, indent=2)
    problems = gradergen.validate_text(text, name="fuzz.json")
    rows = text.split("\n")
    decoder = json.JSONDecoder()
    for p in problems:
        assert p.line is not None and p.column is not None, p
        if p.code == "input" or not resolves(doc, p.pointer):
            continue
        offset = sum(len(r) + 1 for r in rows[: p.line - 1]) + p.column - 1
        found, _ = decoder.raw_decode(text, offset)
        at_key = p.code in ("unknown-property", "unused-grader")
        expected = (
            p.pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
            if at_key
            else get_pointer(doc, p.pointer)
        )
        assert found == expected, (p, found)
    dumped = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    try:
        yaml.load(dumped, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:  # YAML cannot carry every JSON string (lone surrogates)
        return
    as_yaml = gradergen.validate_text(dumped, name="fuzz.yaml")
    assert [(p.pointer, p.code) for p in as_yaml] == [(p.pointer, p.code) for p in problems]


def get_pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for raw in pointer.split("/")[1:] if pointer else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


TEXTS = [p.read_text() for p in sorted(CORPUS.glob("*.json"))]


@FUZZ
@given(
    st.sampled_from(TEXTS),
    st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.sampled_from(["{", "}", "[", "]", '"', ",", ":", "\\", "\n", "\x00", "a", "1", "", "\ufeff"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_damaged_text_never_raises(text: str, edits: list[tuple[int, str]]) -> None:
    for position, char in edits:
        at = position % (len(text) + 1)
        text = text[:at] + char + text[at + 1 :]
    for name in ("damaged.json", "damaged.yaml", "damaged.jsonl"):
        for p in gradergen.validate_text(text, name=name):
            assert p.message
            if p.code != "input":
                assert p.line is not None and p.line >= 1 and p.column is not None and p.column >= 1, p


def test_fuzzing_starts_from_every_seed() -> None:
    assert len(SEEDS) >= 30
    assert all(gradergen.validate(seed, strict=True) == [] for seed in SEEDS)


def test_paths_cover_documents() -> None:
    assert ("graders", "label", "labels", 2) in all_paths(
        json.loads((CORPUS / "multi_every_function.json").read_text())
    )
    assert Path(CORPUS).is_dir()

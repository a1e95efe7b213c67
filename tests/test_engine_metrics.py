"""text_similarity's metrics: the published Marie Curie figures, cases worked out by hand for every
metric, the engine's decisions on empty texts, NaN and out-of-range scores, the batch path against
one-at-a-time grading, rouge-score-rs against rouge-score on 10,000 random pairs (which decides the
library the engine uses), and the WordNet corpus METEOR reads."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gradergen.engine import CompiledGrader, EngineConfig, EngineError, compile_grader
from gradergen.engine.metrics import METRICS, Metric, build_metric, wordnet
from gradergen.engine.services import close_all, services_for

from harness import BIN, ROOT, gradergen

SCORED = [m for m in METRICS if m != "cosine"]
"""Every metric but cosine, which needs an embeddings server (the model graders' tests)."""
CONFIG = EngineConfig()


@pytest.fixture(scope="module", autouse=True)
def wordnet_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A WordNet corpus built by the engine from Debian's packages, found through $GRADERGEN_NLTK_DATA."""
    missing = [n for files in wordnet.DATABASE_FILES.values() for n in files
               if not (wordnet.DEBIAN_SOURCE / n).is_file()]  # fmt: skip
    if missing:
        pytest.fail(
            f"Debian's WordNet is not installed ({', '.join(missing)} missing from {wordnet.DEBIAN_SOURCE}): "
            f"{wordnet.APT_COMMAND} (make test does it as root)",
            pytrace=False,
        )
    root = tmp_path_factory.mktemp("nltk_data")
    wordnet.build(wordnet.DEBIAN_SOURCE, root)
    before = os.environ.get(wordnet.ENV_ROOT)
    os.environ[wordnet.ENV_ROOT] = str(root)
    yield root
    if before is None:
        os.environ.pop(wordnet.ENV_ROOT, None)
    else:
        os.environ[wordnet.ENV_ROOT] = before
    close_all()


def grader(
    metric: str, input_: str = "{{ sample.output_text }}", reference: str = "{{ item.reference }}"
) -> CompiledGrader:
    return compile_grader(
        {"type": "text_similarity", "name": "sim", "input": input_, "reference": reference,
         "evaluation_metric": metric}
    )  # fmt: skip


def score(metric: str, given: str, reference: str) -> float:
    response = grader(metric).run(given, {"reference": reference})
    assert not any(v for k, v in response.metadata.errors.model_dump().items() if k.endswith("_error")), (
        response
    )
    reward: float = response.reward
    return reward


# ----------------------------------------------------------------------------- the published figures
MARIE_CURIE = (
    "According to wikipedia, Marie Curie was not born in Paris but in Warsaw.",
    "Marie Curie was born in Warsaw.",
)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("bleu", 0.1550967560878879),
        ("gleu", 0.25925925925925924),
        ("meteor", 0.8621140763997908),
        # ROUGE-L: the LCS is the 6 words of the reference; the input has 13 words (rouge-score drops
        # punctuation). P = 6/13, R = 6/6, F = 2PR / (P + R) = 12/19.
        ("rouge_l", 2 * (6 / 13) * 1.0 / (6 / 13 + 1.0)),
    ],
)
def test_the_marie_curie_figures(metric: str, expected: float) -> None:
    assert score(metric, *MARIE_CURIE) == pytest.approx(expected, abs=1e-12)


# ----------------------------------------------------------------------------- worked out by hand
SAT = ("the cat sat on the mat", "the cat sat on a mat")
"""Input and reference of six words. n-grams of the input found in the reference, clipped: 1-grams 5 of 6
('the' twice in the input, once in the reference), 2-grams 3 of 5, 3-grams 2 of 4, 4-grams 1 of 3,
5-grams 0 of 2; both have 6 words, and the longest common subsequence is 5 words."""
SHORT = ("the cat sat on", "the cat sat on the mat")
"""Every n-gram of the input is in the reference; the input has 4 words, the reference 6."""

HAND_DERIVED = [
    # fuzzy_match: 2·LCS(characters) / (len a + len b), case-sensitive
    ("fuzzy_match", "kitten", "sitting", 2 * 4 / (6 + 7)),  # LCS "ittn"
    ("fuzzy_match", "Hello", "hello", 2 * 4 / (5 + 5)),
    ("fuzzy_match", "abc", "abc", 1.0),
    ("fuzzy_match", "abc", "xyz", 0.0),
    # bleu: brevity penalty * geometric mean of the four precisions (no zero count, so method 4
    # smoothing changes nothing)
    ("bleu", *SAT, (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25),
    ("bleu", *SHORT, math.exp(1 - 6 / 4)),
    ("bleu", "a b c d e", "a b c d e", 1.0),
    # two words have no 3- or 4-grams (0/1 each); method 4 gives them 1/(2^i · 5/ln 2), i = 1, 2
    ("bleu", "the cat", "the cat", ((math.log(2) / 10) * (math.log(2) / 20)) ** 0.25),
    # one word: method 4 leaves the zero precisions alone, and nltk averages only the positive ones
    ("bleu", "cat", "cat", 1.0),
    # gleu: matched 1-4-grams / max(input's, reference's 1-4-gram count)
    ("gleu", *SAT, (5 + 3 + 2 + 1) / (6 + 5 + 4 + 3)),
    ("gleu", *SHORT, (4 + 3 + 2 + 1) / (6 + 5 + 4 + 3)),
    ("gleu", "Paris", "paris", 0.0),  # case-sensitive
    # meteor: F = PR / (0.9P + 0.1R), times 1 - 0.5 (chunks/matches)^3; tokens lowercased
    ("meteor", "the cat sat on the mat", "the cat sat on the mat", 1 - 0.5 * (1 / 6) ** 3),
    ("meteor", "Paris", "paris", 1 - 0.5),
    ("meteor", "cats", "cat", 1 - 0.5),  # a Porter-stem match
    ("meteor", "the dog barked", "the hound barked", 1 - 0.5 * (1 / 3) ** 3),  # a WordNet synonym
    ("meteor", "apple banana", "cherry grape", 0.0),
    # rouge: F-measure of n-gram (or LCS) overlap on lowercased a-z0-9 tokens
    ("rouge_1", *SAT, 5 / 6),
    ("rouge_2", *SAT, 3 / 5),
    ("rouge_3", *SAT, 2 / 4),
    ("rouge_4", *SAT, 1 / 3),
    ("rouge_5", *SAT, 0.0),
    ("rouge_5", "a b c d e f", "a b c d e g", 1 / 2),
    ("rouge_l", *SAT, 5 / 6),
    ("rouge_1", *SHORT, 2 * 1.0 * (4 / 6) / (1.0 + 4 / 6)),  # P = 4/4, R = 4/6
    ("rouge_1", "Hello, World!", "hello world", 1.0),
    ("rouge_l", "b a c", "a b c", 2 / 3),  # LCS "a c" or "b c"
]


@pytest.mark.parametrize(("metric", "given", "reference", "expected"), HAND_DERIVED)
def test_hand_derived_scores(metric: str, given: str, reference: str, expected: float) -> None:
    assert score(metric, given, reference) == pytest.approx(expected, abs=1e-12)


def test_meteor_finds_the_synonym_in_wordnet() -> None:
    """The WordNet fact the hand-derived METEOR case rests on: 'hound' is a lemma of a sense of 'dog'."""
    reader = wordnet.load()
    assert any("hound" in s.lemma_names() for s in reader.synsets("dog"))
    assert reader.get_version() == "3.0"


def test_every_metric_but_cosine_is_covered_by_hand() -> None:
    assert {case[0] for case in HAND_DERIVED} == set(SCORED)


# ----------------------------------------------------------------------------- engine decisions
EMPTY_CASES = [("", ""), ("words here", ""), ("", "words here"), ("   ", " \n")]
EMPTY_EXPECTED = {
    # fuzzy_match compares characters: two empty texts are identical; whitespace is characters too
    "fuzzy_match": [1.0, 0.0, 0.0, 2 * 1 / (3 + 2)],
}


@pytest.mark.parametrize("metric", SCORED)
def test_empty_texts_score_as_decided(metric: str) -> None:
    """fuzzy_match: as rapidfuzz; every token metric: a side without tokens scores 0, both empty too."""
    expected = EMPTY_EXPECTED.get(metric, [0.0, 0.0, 0.0, 0.0])
    got = [score(metric, g, r) for g, r in EMPTY_CASES]
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("metric", ["bleu", "gleu", "meteor"])
def test_an_empty_side_gets_a_note(metric: str) -> None:
    _, outcome = grader(metric).run_explained("", {"reference": "a b"})
    assert outcome.notes == [f"{metric}: the input has no words, so the score is 0"]


@pytest.mark.parametrize("metric", ["rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l"])
def test_rouge_drops_what_is_not_a_to_z_or_digits_and_says_so(metric: str) -> None:
    """rouge-score's quirk, replicated: identical Chinese text scores 0, and a note says why."""
    response, outcome = grader(metric).run_explained(
        "中文 中文 中文 中文 中文", {"reference": "中文 中文 中文 中文 中文"}
    )
    assert response.reward == 0.0
    assert not response.metadata.errors.other_error
    assert (
        len(outcome.notes) == 1
        and "keeps only a-z and 0-9" in outcome.notes[0]
        and "中文" in outcome.notes[0]
    )
    assert grader(metric).run_explained("plain words", {"reference": "plain words"})[1].notes == []


def test_rouge_splits_words_at_accented_letters() -> None:
    # 'café' becomes the token 'caf', which is not 'cafe'
    assert score("rouge_1", "café", "cafe") == 0.0
    assert score("rouge_1", "café", "caf") == 1.0


class Fixed(Metric):
    """A metric that gives what it is told to, to see what the grader makes of it."""

    name = "fixed"

    def __init__(self, value: Any) -> None:
        self.value = value

    def score(self, given: str, reference: str) -> float:
        if isinstance(self.value, Exception):
            raise self.value
        return float(self.value)


@pytest.fixture
def fixed_metric() -> Iterator[Any]:
    """The fuzzy_match metric of a configuration of its own, replaced by `Fixed`."""
    config = EngineConfig.load(environ={}, overrides={"embeddings": {"model": "fixed-metric-test"}})
    services = services_for(config)

    def install(value: Any) -> Any:
        services._metrics["fuzzy_match"] = Fixed(value)
        return compile_grader(
            {"type": "text_similarity", "name": "sim", "input": "{{ sample.output_text }}",
             "reference": "x", "evaluation_metric": "fuzzy_match"},
            config,
        )  # fmt: skip

    yield install
    services._metrics.clear()


@pytest.mark.parametrize(
    ("value", "reward", "other_error"),
    [(1.7, 1.0, False), (-0.3, 0.0, False), (0.25, 0.25, False), (float("nan"), 0.0, True),
     (float("inf"), 1.0, False), (ValueError("broken"), 0.0, True)],
)  # fmt: skip
def test_scores_are_clipped_and_nan_or_a_failure_is_other_error(
    fixed_metric: Any, value: Any, reward: float, other_error: bool
) -> None:
    compiled = fixed_metric(value)
    for response in [compiled.run("a"), *compiled.run_many(["a", "b"])]:
        assert response.reward == reward
        assert response.metadata.errors.other_error is other_error


# ----------------------------------------------------------------------------- batches
BATCH_SAMPLES: list[Any] = [
    *MARIE_CURIE, "the cat sat on the mat", "", "中文", "Hello, World!", "\ud800 lone surrogate", "x" * 3000,
    {"output_text": "a sample given as its namespace"}, "no reference", "number reference",
]  # fmt: skip
BATCH_ITEMS: list[Any] = [
    {"reference": MARIE_CURIE[1]}, {"reference": MARIE_CURIE[0]}, {"reference": "the cat sat on a mat"},
    {"reference": "something"}, {"reference": "中文"}, {"reference": "hello world"},
    {"reference": "lone surrogate"}, {"reference": "x" * 2000}, {"reference": "a sample"},
    {"other": 1}, {"reference": 12},
]  # fmt: skip


def comparable(response: Any) -> tuple[Any, ...]:
    """A response without its execution time, with what pydantic records about it."""
    data = response.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["metadata"].pop("execution_time")
    return (
        type(response),
        data,
        response.__pydantic_fields_set__,
        response.metadata.__pydantic_fields_set__,
        response.metadata.errors.__pydantic_fields_set__,
        response.model_extra,
    )


@pytest.mark.parametrize("metric", SCORED)
def test_run_many_gives_what_run_gives(metric: str) -> None:
    compiled = grader(metric)
    many = compiled.run_many(BATCH_SAMPLES, BATCH_ITEMS)
    one = [compiled.run(s, i) for s, i in zip(BATCH_SAMPLES, BATCH_ITEMS, strict=True)]
    assert [comparable(r) for r in many] == [comparable(r) for r in one]
    assert many[9].metadata.errors.invalid_variable_error and many[9].reward == 0.0
    assert all(r.metadata.execution_time >= 0 for r in many)
    # each response is a model of its own: changing one changes no other
    many[0].metadata.errors.other_error = True
    many[0].metadata.scores["x"] = 1
    assert not many[1].metadata.errors.other_error and many[1].metadata.scores == {}
    assert "other_error" in many[0].metadata.errors.model_fields_set


def test_run_many_reads_templates_of_every_shape() -> None:
    compiled = grader("fuzzy_match", "answer: {{ sample.output_json.answer }}", "answer: {{ item.ref[0] }}")
    samples = ['{"answer": "yes"}', '{"answer": "no"}', "not json"]
    items = [{"ref": ["yes"]}, {"ref": ["yes"]}, {"ref": ["yes"]}]
    many = compiled.run_many(samples, items)
    assert [comparable(r) for r in many] == [
        comparable(compiled.run(s, i)) for s, i in zip(samples, items, strict=True)
    ]
    assert [r.reward for r in many[:2]] == [1.0, pytest.approx(2 * 8 / (11 + 10))]  # LCS "answer: "
    assert many[2].metadata.errors.sample_parse_error


@pytest.mark.parametrize("metric", SCORED)
def test_score_many_is_score_on_each_pair_exactly(metric: str) -> None:
    scorer = build_metric(metric, CONFIG)
    pairs = differential_pairs(300, seed=11)
    given, references = [p[0] for p in pairs], [p[1] for p in pairs]
    assert scorer.score_many(given, references) == [scorer.score(g, r) for g, r in pairs]
    assert scorer.score_many([], []) == []
    with pytest.raises(ValueError):
        scorer.score_many(["a"], [])


# ----------------------------------------------------------------------------- rouge-score-rs = rouge-score
WORDS = (
    "the a of and to in is was for on that with as by at from it an be this are or not his her they "
    "Marie Curie Warsaw Paris radium polonium Nobel prize physics chemistry born died 1867 1934 wife "
    "running runs ran run's don't can't U.S. e.g. well-known state-of-the-art x86_64 3.14 1,000 #tag @user"
).split()
EXTRA = ["中文", "日本語", "한국어", "café", "naïve", "Straße", "ÉCOLE", "İstanbul", "ǅemal", "²", "٣",
         "😀", "—", "…", "«quote»", "\t", "\n", "\u00a0", "\ud800", "KELVIN\u212a"]  # fmt: skip
PUNCTUATION = list(".,;:!?()[]{}'\"-/\\")


def differential_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """Random (input, reference) pairs: mostly English with punctuation and digits, sharing words so
    that n-grams overlap; CJK and other scripts; empty and blank strings; some long texts."""
    rng = random.Random(seed)

    def word() -> str:
        roll = rng.random()
        if roll < 0.08:
            return rng.choice(EXTRA)
        if roll < 0.16:
            return rng.choice(PUNCTUATION)
        w = rng.choice(WORDS)
        return w.upper() if roll < 0.2 else w

    def text(length: int) -> str:
        out = []
        for _ in range(length):
            out.append(word())
            out.append(rng.choice([" ", " ", " ", "", "  ", "\n"]))
        return "".join(out)

    pairs: list[tuple[str, str]] = []
    for i in range(count):
        kind = i % 50
        if kind == 0:
            pairs.append(rng.choice([("", ""), ("", text(5)), (text(5), ""), ("  ", "\n"), ("...", "!!")]))
        elif kind == 1:
            pairs.append((text(rng.randint(150, 400)), text(rng.randint(150, 400))))
        elif kind == 2:
            cjk = "".join(rng.choice("中文日本語한국어的是了") for _ in range(rng.randint(1, 12)))
            pairs.append((cjk, cjk if rng.random() < 0.5 else cjk[::-1]))
        else:
            reference = text(rng.randint(1, 30))
            tokens = reference.split()
            rng.shuffle(tokens) if rng.random() < 0.3 else None
            edited = [t for t in tokens if rng.random() > 0.2] + [word() for _ in range(rng.randint(0, 5))]
            pairs.append((" ".join(edited), reference))
    return pairs


def test_rouge_score_rs_equals_rouge_score_on_10000_random_pairs() -> None:
    """The test that decides the engine's rouge library: rouge-score-rs (fast) only while it equals
    rouge-score 0.1.2 (the reference) on precision, recall and F-measure of every ROUGE type."""
    from rouge_score import rouge_scorer
    from rouge_score_rs import RougeScorer as FastScorer

    from gradergen.engine.metrics.rouge import ROUGE_TYPES

    pairs = differential_pairs(10_000, seed=2026)
    types = list(ROUGE_TYPES.values())
    reference_scorer = rouge_scorer.RougeScorer(types, use_stemmer=False)
    fast_scorer = FastScorer(types, use_stemmer=False)
    expected = [reference_scorer.score(r, g) for g, r in pairs]
    fast = fast_scorer.score_batch([r for _, r in pairs], [g for g, _ in pairs])
    worst = 0.0
    for (given, reference), want, got in zip(pairs, expected, fast, strict=True):
        for kind in types:
            for field in ("precision", "recall", "fmeasure"):
                difference = abs(getattr(want[kind], field) - getattr(got[kind], field))
                assert difference <= 1e-12, (kind, field, given, reference, want[kind], got[kind])
                worst = max(worst, difference)
    # and the engine's metrics (the batch path) give rouge-score's F-measure
    for name, kind in ROUGE_TYPES.items():
        engine = build_metric(name, CONFIG).score_many([g for g, _ in pairs], [r for _, r in pairs])
        assert engine == pytest.approx([s[kind].fmeasure for s in expected], abs=1e-12)
    assert sum(1 for s in expected if s["rougeL"].fmeasure > 0) > 5_000  # the pairs do overlap
    assert any(
        g == r and s["rouge1"].fmeasure == 0.0 and g.strip()
        for (g, r), s in zip(pairs, expected, strict=True)
    )


# ----------------------------------------------------------------------------- WordNet
def test_lexnames_is_the_45_files_of_lexnames_5wn() -> None:
    lines = wordnet.lexnames().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3"
    assert lines[2] == "02\tadv.all\t4"
    assert lines[3] == "03\tnoun.Tops\t1"
    assert lines[28] == "28\tnoun.time\t1"
    assert lines[29] == "29\tverb.body\t2"
    assert lines[43] == "43\tverb.weather\t2"
    assert lines[44] == "44\tadj.ppl\t3"


def test_the_corpus_is_built_once_and_whole(tmp_path: Path) -> None:
    corpus = wordnet.build(wordnet.DEBIAN_SOURCE, tmp_path)
    assert corpus == tmp_path / "corpora" / "wordnet"
    assert (corpus / "lexnames").read_text(encoding="utf-8") == wordnet.lexnames()
    for files in wordnet.DATABASE_FILES.values():
        for name in files:
            assert (corpus / name).read_bytes() == (wordnet.DEBIAN_SOURCE / name).read_bytes()
    stamp = (corpus / "data.noun").stat().st_mtime_ns
    assert wordnet.build(wordnet.DEBIAN_SOURCE, tmp_path) == corpus
    assert (corpus / "data.noun").stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "corpora").iterdir()] == ["wordnet"]  # no staging left behind


def test_a_missing_or_partial_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        EngineError, match=r"no such directory.*apt-get install -y wordnet-base wordnet-sense-index"
    ):
        wordnet.build(tmp_path / "nowhere", tmp_path / "out")
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in wordnet.DATABASE_FILES["wordnet-base"]:
        (partial / name).write_bytes((wordnet.DEBIAN_SOURCE / name).read_bytes())
    with pytest.raises(EngineError, match=r"lacks index\.sense \(from wordnet-sense-index\)"):
        wordnet.build(partial, tmp_path / "out")
    (partial / "index.sense").write_text("", encoding="utf-8")
    (partial / "data.adj").write_text(
        "  1 WordNet 2.1 Copyright 2005 by Princeton University.\n", encoding="utf-8"
    )
    with pytest.raises(EngineError, match=r"not WordNet 3\.0"):
        wordnet.build(partial, tmp_path / "out")
    assert not (tmp_path / "out" / "corpora" / "wordnet").exists()


def test_the_corpus_is_found_in_the_documented_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wordnet_corpus: Path
) -> None:
    import nltk.data

    home = tmp_path / "home"
    cached = home / ".cache" / "gradergen" / "nltk_data"
    on_nltk_path = tmp_path / "nltk_path"
    for root in (cached, on_nltk_path):
        (root / "corpora" / "wordnet").mkdir(parents=True)
        for name in ["lexnames", *(n for files in wordnet.DATABASE_FILES.values() for n in files)]:
            (root / "corpora" / "wordnet" / name).write_text("", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty"), str(on_nltk_path)])
    assert wordnet.find_root({wordnet.ENV_ROOT: str(wordnet_corpus)}) == wordnet_corpus
    assert wordnet.find_root({wordnet.ENV_ROOT: str(tmp_path / "empty")}) == cached
    assert wordnet.find_root({}) == cached
    assert wordnet.default_root({}) == cached
    assert wordnet.default_root({wordnet.ENV_ROOT: "/x/y"}) == Path("/x/y")
    (cached / "corpora" / "wordnet" / "lexnames").unlink()  # incomplete: not a corpus
    assert wordnet.find_root({}) == on_nltk_path
    monkeypatch.setattr(nltk.data, "path", [])
    assert wordnet.find_root({}) is None


def test_meteor_without_wordnet_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nltk.data

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(wordnet.ENV_ROOT, str(tmp_path / "empty"))
    monkeypatch.setattr(nltk.data, "path", [])
    with pytest.raises(EngineError) as caught:
        build_metric("meteor", CONFIG)
    assert str(caught.value) == (
        "the meteor metric needs WordNet 3.0, which is not in $GRADERGEN_NLTK_DATA, "
        "~/.cache/gradergen/nltk_data or nltk's data path: run `gradergen data wordnet`"
    )
    assert "apt-get update && apt-get install -y wordnet-base wordnet-sense-index" in wordnet.missing_message(
        tmp_path / "no-debian-wordnet"
    )


def test_gradergen_data_wordnet_builds_the_corpus_run_finds(tmp_path: Path) -> None:
    target = tmp_path / "data"
    built = gradergen("data", "wordnet", "--to", str(target))
    assert built.returncode == 0, built.stderr
    assert f"WordNet 3.0 written to {target / 'corpora' / 'wordnet'}" in built.stdout
    again = gradergen("data", "wordnet", "--to", str(target))
    assert again.returncode == 0 and "already in" in again.stdout
    env = {**os.environ, wordnet.ENV_ROOT: str(target), "HOME": str(tmp_path)}
    meteor = (
        '{"type": "text_similarity", "name": "m", "input": "{{ sample.output_text }}", '
        '"reference": "{{ item.reference }}", "evaluation_metric": "meteor"}'
    )
    ran = subprocess.run(
        [str(BIN / "gradergen"), "run", "--grader", meteor, "--model-sample", MARIE_CURIE[0],
         "--item", f'{{"reference": "{MARIE_CURIE[1]}"}}'],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert '"reward": 0.8621140763997908' in ran.stdout


def test_gradergen_data_wordnet_errors_are_one_line(tmp_path: Path) -> None:
    missing = gradergen("data", "wordnet", "--from", str(tmp_path / "nowhere"), "--to", str(tmp_path / "out"))
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1
    assert missing.stderr.startswith(f"gradergen: error: {tmp_path / 'nowhere'}: no such directory")
    assert "apt-get install -y wordnet-base wordnet-sense-index" in missing.stderr
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    unwritable = gradergen("data", "wordnet", "--to", str(blocked))
    assert unwritable.returncode == 2 and unwritable.stderr.startswith("gradergen: error: cannot write")
    assert unwritable.stderr.count("\n") == 1


# ----------------------------------------------------------------------------- imports
def python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_validating_and_other_metrics_never_import_nltk() -> None:
    out = python(
        "import sys, gradergen\n"
        "from gradergen.cli import main\n"
        "main(['validate', '--grader', '{type: text_similarity, name: n, input: a, reference: b, "
        "evaluation_metric: meteor}', '-q'])\n"
        "from gradergen.engine import compile_grader\n"
        "g = compile_grader({'type': 'text_similarity', 'name': 'n', 'input': 'a', 'reference': 'a', "
        "'evaluation_metric': 'fuzzy_match'})\n"
        "assert g.run('x').reward == 1.0\n"
        "print(sorted(m for m in ('nltk', 'rouge_score_rs', 'rapidfuzz') if m in sys.modules))\n"
    )
    assert out == "['rapidfuzz']"


@pytest.mark.parametrize(
    ("module", "metric", "message"),
    [
        ("nltk", "bleu", "the bleu metric needs nltk: pip install 'gradergen[engine]'"),
        ("nltk", "meteor", "the meteor metric needs nltk: pip install 'gradergen[engine]'"),
        (
            "rouge_score_rs",
            "rouge_2",
            "the rouge metrics need rouge-score-rs: pip install 'gradergen[engine]'",
        ),
        (
            "rapidfuzz",
            "fuzzy_match",
            "fuzzy_match needs rapidfuzz and numpy: pip install 'gradergen[engine]'",
        ),
    ],
)
def test_a_missing_library_is_a_clear_error(module: str, metric: str, message: str) -> None:
    out = python(
        f"import sys\nsys.modules[{module!r}] = None\n"
        "from gradergen.engine import EngineConfig, EngineError\n"
        "from gradergen.engine.metrics import build_metric\n"
        f"try:\n    build_metric({metric!r}, EngineConfig())\nexcept EngineError as e:\n    print(e)\n"
    )
    assert out == message


def test_an_unknown_metric_and_cosine_without_embeddings_are_clear_errors() -> None:
    with pytest.raises(EngineError, match=r"unknown text_similarity metric 'rouge-l' \(metrics: cosine, "):
        build_metric("rouge-l", CONFIG)
    with pytest.MonkeyPatch.context() as env:
        env.delenv("OPENAI_API_KEY", raising=False)
        env.delenv("OPENAI_BASE_URL", raising=False)
        with pytest.raises(
            EngineError, match=r"cosine embeddings call OpenAI's API, which needs a key: set \$OPENAI_API_KEY"
        ):
            build_metric("cosine", CONFIG)


# ----------------------------------------------------------------------------- system packages
SYSTEM_PACKAGES = ROOT / ".ci" / "system-packages"


def test_system_packages_is_silent_when_everything_is_installed() -> None:
    result = subprocess.run(
        ["bash", "-s", "--", "dpkg", "coreutils"],
        stdin=SYSTEM_PACKAGES.open("rb"),
        capture_output=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_system_packages_stops_with_the_command_when_it_cannot_install() -> None:
    command = ["bash", "-s", "--", "dpkg", "gradergen-no-such-package"]
    if os.geteuid() == 0:  # as root it would install: run it as nobody
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    result = subprocess.run(
        command, stdin=SYSTEM_PACKAGES.open("rb"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr == (
        "system-packages: missing gradergen-no-such-package; install them with:\n"
        "  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends "
        "gradergen-no-such-package'\n"
    )

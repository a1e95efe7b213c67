"""WordNet 3.0 for METEOR, offline: an nltk_data corpus built from Debian's WordNet packages.

No package registry ships WordNet for nltk, so `build` assembles `<root>/corpora/wordnet/` from the
database files Debian's `wordnet-base` and `wordnet-sense-index` install in /usr/share/wordnet, plus the
`lexnames` file nltk reads first, which Debian leaves out and which is written here from the table in
lexnames(5WN). `find_root` looks for a corpus in $GRADERGEN_NLTK_DATA, then ~/.cache/gradergen/nltk_data,
then nltk's own data path; `load` opens the one it finds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import EngineError

DEBIAN_SOURCE = Path("/usr/share/wordnet")
ENV_ROOT = "GRADERGEN_NLTK_DATA"
CACHE_ROOT = Path("~/.cache/gradergen/nltk_data")
CORPUS = Path("corpora") / "wordnet"
APT_COMMAND = "apt-get update && apt-get install -y wordnet-base wordnet-sense-index"

DATABASE_FILES = {
    "wordnet-base": (
        "adj.exc",
        "adv.exc",
        "cntlist.rev",
        "data.adj",
        "data.adv",
        "data.noun",
        "data.verb",
        "index.adj",
        "index.adv",
        "index.noun",
        "index.verb",
        "noun.exc",
        "verb.exc",
    ),
    "wordnet-sense-index": ("index.sense",),
}
"""What nltk's WordNetCorpusReader opens, besides lexnames, by the Debian package that installs it."""

LEXICOGRAPHER_FILES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather "
    "adj.ppl"
).split()
"""The 45 lexicographer files of WordNet 3.0, in file-number order (lexnames(5WN))."""
SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
LICENSE_SOURCE = Path("/usr/share/doc/wordnet-base/copyright")


def lexnames() -> str:
    """The `lexnames` file: `NN<tab>name<tab>category` for each lexicographer file."""
    return "".join(
        f"{number:02d}\t{name}\t{SYNTACTIC_CATEGORY[name.split('.')[0]]}\n"
        for number, name in enumerate(LEXICOGRAPHER_FILES)
    )


def default_root(environ: Mapping[str, str] | None = None) -> Path:
    """Where `gradergen data wordnet` writes: $GRADERGEN_NLTK_DATA, else ~/.cache/gradergen/nltk_data."""
    environ = os.environ if environ is None else environ
    configured = environ.get(ENV_ROOT)
    return Path(configured).expanduser() if configured else CACHE_ROOT.expanduser()


def is_corpus(root: Path) -> bool:
    """Whether `root` (an nltk_data directory) holds a complete WordNet corpus."""
    corpus = root / CORPUS
    names = ["lexnames", *(n for files in DATABASE_FILES.values() for n in files)]
    return all((corpus / name).is_file() for name in names)


def _missing_sources(source: Path) -> dict[str, list[str]]:
    return {
        package: missing
        for package, files in DATABASE_FILES.items()
        if (missing := [n for n in files if not (source / n).is_file()])
    }


def _check_version(source: Path) -> None:
    try:
        with (source / "data.adj").open(encoding="utf-8", errors="replace") as f:
            header = [next(f, "") for _ in range(40)]
    except OSError as exc:
        raise EngineError(f"cannot read {source / 'data.adj'}: {exc}") from None
    if not any("WordNet 3.0 Copyright" in line for line in header):
        raise EngineError(f"{source} is not WordNet 3.0 (data.adj names another version); METEOR needs 3.0")


def build(source: Path = DEBIAN_SOURCE, root: Path | None = None, *, force: bool = False) -> Path:
    """Write the corpus into `root` (an nltk_data directory; default `default_root()`) from the WordNet
    database in `source`, and return the corpus directory. Nothing is done when a complete corpus is
    there already, unless `force`. The corpus appears whole or not at all."""
    root = default_root() if root is None else root
    target = root / CORPUS
    if is_corpus(root) and not force:
        return target
    if not source.is_dir():
        raise EngineError(f"{source}: no such directory; Debian's WordNet packages install it: {APT_COMMAND}")
    missing = _missing_sources(source)
    if missing:
        what = "; ".join(f"{', '.join(names)} (from {package})" for package, names in missing.items())
        raise EngineError(f"{source} lacks {what}: {APT_COMMAND}")
    _check_version(source)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=target.parent))
        try:
            for files in DATABASE_FILES.values():
                for name in files:
                    shutil.copyfile(source / name, staging / name)
            if LICENSE_SOURCE.is_file():
                shutil.copyfile(LICENSE_SOURCE, staging / "LICENSE")
            (staging / "lexnames").write_text(lexnames(), encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise EngineError(f"cannot write the WordNet corpus to {target}: {exc}") from None
    return target


def _nltk_roots() -> list[Path]:
    import nltk.data

    return [Path(p) for p in nltk.data.path if isinstance(p, str)]


def find_root(environ: Mapping[str, str] | None = None) -> Path | None:
    """The first nltk_data directory with a WordNet corpus: $GRADERGEN_NLTK_DATA, then
    ~/.cache/gradergen/nltk_data, then nltk's data path (where a `wordnet.zip` counts too)."""
    environ = os.environ if environ is None else environ
    ours = [Path(environ[ENV_ROOT]).expanduser()] if environ.get(ENV_ROOT) else []
    ours.append(CACHE_ROOT.expanduser())
    for root in ours:
        if is_corpus(root):
            return root
    for root in _nltk_roots():
        if is_corpus(root) or (root / "corpora" / "wordnet.zip").is_file():
            return root
    return None


def missing_message(source: Path = DEBIAN_SOURCE) -> str:
    """What to do when no corpus is found."""
    where = f"${ENV_ROOT}, ~/.cache/gradergen/nltk_data or nltk's data path"
    debian_installed = source.is_dir() and not _missing_sources(source)
    if not debian_installed:
        return (
            f"the meteor metric needs WordNet 3.0, which is not in {where}: install Debian's WordNet "
            f"({APT_COMMAND}), then run `gradergen data wordnet`"
        )
    return f"the meteor metric needs WordNet 3.0, which is not in {where}: run `gradergen data wordnet`"


_LOADED: dict[Path, Any] = {}
_LOCK = threading.Lock()


def load(environ: Mapping[str, str] | None = None) -> Any:
    """The WordNet corpus reader METEOR uses (one per corpus and process); EngineError with the commands
    to run when there is none."""
    root = find_root(environ)
    if root is None:
        raise EngineError(missing_message())
    with _LOCK:
        reader = _LOADED.get(root)
        if reader is None:
            reader = _LOADED[root] = _open(root)
    return reader


def _open(root: Path) -> Any:
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    # The reader maps sense keys through the corpus nltk finds by name, so ours must come first.
    if str(root) in nltk.data.path:
        nltk.data.path.remove(str(root))
    nltk.data.path.insert(0, str(root))
    location = nltk.data.find("corpora/wordnet")
    with warnings.catch_warnings():
        # Without the Open Multilingual WordNet only English lookups work, which is all METEOR does.
        warnings.filterwarnings("ignore", message="The multilingual functions are not available")
        try:
            return WordNetCorpusReader(location, None)
        except (OSError, ValueError, AssertionError) as exc:
            raise EngineError(
                f"the WordNet corpus in {root / CORPUS} is damaged ({exc}); rebuild it: "
                "gradergen data wordnet --force"
            ) from None

"""The images python graders run in: for each known tag a virtual environment of the machine's CPython
3.11 with that tag's package set, pinned exactly (`images/<tag>.txt`), built once and cached under
~/.cache/gradergen/images/<tag> (or $GRADERGEN_IMAGES/<tag>).

An image is ready when its `image.json` is there and names the lock file it was built from; a changed
lock file means a rebuild. The sandbox mounts the image and the interpreter it was made from read-only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ...validation.semantics import PYTHON_IMAGE_TAGS
from ..errors import EngineError

LOCKS = Path(__file__).resolve().parent / "images"
PYTHON_VERSION = (3, 11)
DOCUMENTED_IMPORTS = {
    "numpy": "numpy",
    "scipy": "scipy",
    "sympy": "sympy",
    "pandas": "pandas",
    "rapidfuzz": "rapidfuzz",
    "scikit-learn": "sklearn",
    "rouge-score": "rouge_score",
    "deepdiff": "deepdiff",
    "jsonschema": "jsonschema",
    "pydantic": "pydantic",
    "pyyaml": "yaml",
    "nltk": "nltk",
    "sqlparse": "sqlparse",
    "rdkit": "rdkit",
    "scikit-bio": "skbio",
    "ast-grep-py": "ast_grep_py",
}
"""The documented packages and the module each is imported as: every one must import in a built image."""
WARM_IMPORTS = ("json", "re", "math", "numpy", "rapidfuzz")
"""What a worker imports before its first grader: what most graders use, cheap enough (about 0.2 s and
30 MB a worker) that replacing a worker stays quick. Anything else is imported by the first call that
needs it and stays imported for the worker's life."""
NLTK_DATA = ("punkt", "punkt_tab", "stopwords", "wordnet", "omw-1.4", "names")
"""The nltk data the documented image ships."""

Log = Callable[[str], None]


def images_root() -> Path:
    configured = os.environ.get("GRADERGEN_IMAGES")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "gradergen" / "images"


def lock_file(tag: str) -> Path:
    if tag not in PYTHON_IMAGE_TAGS:
        raise EngineError(f"unknown image {tag!r}: the known images are {', '.join(PYTHON_IMAGE_TAGS)}")
    return LOCKS / f"{tag}.txt"


def pins(tag: str) -> list[str]:
    lines = lock_file(tag).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _lock_digest(tag: str) -> str:
    return hashlib.sha256(lock_file(tag).read_bytes()).hexdigest()


@dataclass(frozen=True)
class Image:
    """A built image: what the sandbox mounts and runs."""

    tag: str
    root: Path
    python: Path
    """The image's interpreter (venv/bin/python)."""
    base_prefix: Path
    """The installation the interpreter comes from, mounted read-only beside the image."""
    nltk_data: Path
    nltk_missing: tuple[str, ...]
    warm: tuple[str, ...] = WARM_IMPORTS


def installed(tag: str, root: Path | None = None) -> Image | None:
    """The image when it is built from the current lock file, else None."""
    where = (root or images_root()) / tag
    try:
        record = json.loads((where / "image.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("lock_sha256") != _lock_digest(tag):
        return None
    python = where / "venv" / "bin" / "python"
    base = Path(str(record.get("base_prefix", "")))
    if not python.exists() or not base.is_dir():
        return None
    missing = tuple(str(m) for m in record.get("nltk_missing", ()))
    return Image(tag, where, python, base, where / "nltk_data", missing)


def require(tag: str) -> Image:
    """The built image, or an error saying how to build it."""
    image = installed(tag)
    if image is None:
        raise EngineError(
            f"the python image {tag} is not built (or was built from another package list): "
            f"run `gradergen image build {tag}` (a few minutes, once)"
        )
    return image


def find_python() -> Path:
    """The machine's CPython 3.11: this interpreter's installation when it is 3.11, else python3.11."""
    if sys.version_info[:2] == PYTHON_VERSION:
        candidate = Path(sys.base_prefix) / "bin" / "python3.11"
        if candidate.exists():
            return candidate
    found = shutil.which("python3.11")
    if found is None:
        raise EngineError("building an image needs CPython 3.11 (python3.11 on PATH), which is not here")
    return Path(found)


@contextmanager
def _locked(root: Path, tag: str) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{tag}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(tag: str, force: bool = False, log: Log = print, root: Path | None = None) -> Image:
    """Build the image (or leave a current one alone unless `force`); an error names the step that
    failed and pip's last words."""
    lock = lock_file(tag)
    root = root or images_root()
    with _locked(root, tag):
        current = installed(tag, root)
        if current is not None and not force:
            log(f"image {tag} is built: {current.root}")
            return current
        where = root / tag
        if where.exists():
            shutil.rmtree(where)
        where.mkdir(parents=True)
        try:
            return _build_into(where, tag, lock, log)
        except BaseException:
            shutil.rmtree(where, ignore_errors=True)
            raise


def _build_into(where: Path, tag: str, lock: Path, log: Log) -> Image:
    python = find_python()
    old_umask = os.umask(0o022)  # the sandbox reads the image as an unprivileged user
    try:
        venv = where / "venv"
        log(f"image {tag}: a virtual environment of {python}")
        _run([str(python), "-m", "venv", str(venv)], "creating the virtual environment")
        image_python = venv / "bin" / "python"
        log(f"image {tag}: installing {len(pins(tag))} pinned packages (building what has no wheel)")
        pip = [str(image_python), "-m", "pip", "--disable-pip-version-check", "--no-input"]
        _run([*pip, "install", "--no-deps", "--quiet", "-r", str(lock)], "installing the packages")
        _run([*pip, "check"], "checking the installed packages fit together")
        versions = _smoke_test(image_python)
        log(f"image {tag}: nltk data")
        nltk_data = where / "nltk_data"
        nltk_data.mkdir()
        missing = _nltk_data(nltk_data, log)
        _run([str(image_python), "-m", "compileall", "-q", str(venv / "lib")], "compiling bytecode")
        _readable(where)
        base_prefix = _query(image_python, "import sys; print(sys.base_prefix)")
        record = {
            "tag": tag,
            "lock_sha256": _lock_digest(tag),
            "python": _query(image_python, "import platform; print(platform.python_version())"),
            "base_prefix": base_prefix,
            "packages": versions,
            "nltk_data": [name for name in NLTK_DATA if name not in missing],
            "nltk_missing": missing,
        }
        (where / "image.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    finally:
        os.umask(old_umask)
    image = installed(tag, where.parent)
    assert image is not None
    log(f"image {tag} is built: {where}")
    if missing:
        log(f"image {tag}: nltk data not available on this machine: {', '.join(missing)}")
    return image


def _run(command: list[str], step: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise EngineError(f"image build failed while {step}:\n" + "\n".join(said))


def _query(python: Path, code: str) -> str:
    done = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _smoke_test(python: Path) -> dict[str, str]:
    """Every documented package imports, and its version is the pinned one."""
    code = (
        "import importlib, importlib.metadata as m, json, sys\n"
        f"names = {DOCUMENTED_IMPORTS!r}\n"
        "for module in names.values(): importlib.import_module(module)\n"
        "print(json.dumps({d: m.version(d) for d in names}))\n"
    )
    done = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-5:]
        raise EngineError("image build failed: a documented package does not import:\n" + "\n".join(said))
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


def _nltk_data(target: Path, log: Log) -> list[str]:
    """Install what nltk data this machine can provide offline; the names of what it cannot. No
    registry here serves nltk data: WordNet is built from Debian's packages by the metrics' builder
    (when this build has it); the rest is not to be had."""
    missing = []
    for name in NLTK_DATA:
        if name == "wordnet" and _wordnet(target, log):
            continue
        missing.append(name)
    return missing


def _wordnet(nltk_data: Path, log: Log) -> bool:
    try:
        from ..metrics import wordnet  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return False
    try:
        wordnet.build(root=nltk_data)
    except Exception as exc:  # Debian's WordNet packages missing: said, and the image has no WordNet
        log(f"image: no WordNet: {exc}")
        return False
    return True


def _readable(root: Path) -> None:
    """Everything readable (and directories searchable) by every user."""
    for directory, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = os.path.join(directory, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                continue
            wanted = mode | stat.S_IROTH | stat.S_IRGRP
            if stat.S_ISDIR(mode) or mode & stat.S_IXUSR:
                wanted |= stat.S_IXOTH | stat.S_IXGRP
            if wanted != mode:
                os.chmod(path, wanted)
    os.chmod(root, os.stat(root).st_mode | stat.S_IROTH | stat.S_IXOTH)


def listing() -> list[tuple[str, str, str]]:
    """(tag, state, where) for every known tag."""
    rows = []
    for tag in PYTHON_IMAGE_TAGS:
        image = installed(tag)
        if image is not None:
            rows.append((tag, "built", str(image.root)))
        elif (images_root() / tag).exists():
            rows.append((tag, "stale (rebuild it)", str(images_root() / tag)))
        else:
            rows.append((tag, "not built", str(images_root() / tag)))
    return rows

"""Namespace options: where the generated code lives when it is generated into another repo."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, fields

from .errors import GradergenError

_PY_PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
_GO_MODULE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._~/-]*[a-zA-Z0-9]$")
_GO_PACKAGE = re.compile(r"^[a-z][a-z0-9]*$")
_JAVA_PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")
_RUBY_MODULE = re.compile(r"^[A-Z][A-Za-z0-9]*(::[A-Z][A-Za-z0-9]*)*$")


@dataclass(frozen=True)
class Options:
    python_package: str = "openai_graders"
    go_module: str = "github.com/gradergen/openai-graders-go"
    go_package: str = "graders"
    java_package: str = "com.openai.graders"
    ruby_module: str = "OpenAIGraders"

    def __post_init__(self) -> None:
        checks = {
            "python_package": (_PY_PACKAGE, "a lower-case Python identifier, e.g. my_graders"),
            "go_module": (_GO_MODULE, "a Go module path, e.g. github.com/acme/graders"),
            "go_package": (_GO_PACKAGE, "a lower-case Go package name, e.g. graders"),
            "java_package": (_JAVA_PACKAGE, "a dotted lower-case Java package, e.g. com.acme.graders"),
            "ruby_module": (_RUBY_MODULE, "a Ruby constant path, e.g. Acme::Graders"),
        }
        for f in fields(self):
            value = getattr(self, f.name)
            pattern, example = checks[f.name]
            if not pattern.match(value):
                flag = "--" + f.name.replace("_", "-")
                raise GradergenError(f"{flag} {value!r} is not valid: expected {example}")
        if keyword.iskeyword(self.python_package):
            raise GradergenError(f"--python-package {self.python_package!r} is a Python keyword")

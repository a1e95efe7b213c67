"""Javadoc references resolve: a class named only in a Javadoc tag is imported like any other, and one the
generator cannot import is a generation error naming it (javac never reads these, so otherwise only
javadoc, at release time, would fail: `make dist` runs it with doclint on and warnings as errors)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gradergen.emit.render import prepare
from gradergen.errors import GradergenError
from gradergen.generate import load_ir
from gradergen.options import Options

from harness import SPEC

PACKAGE = "com.acme.graders.models"


@pytest.fixture(scope="module")
def java_unit() -> Callable[[str, str], str]:
    unit: Callable[[str, str], str] = prepare("java", load_ir(SPEC), Options()).context["java_unit"]
    return unit


def body(tag: str) -> str:
    return f"/**\n * Does it.\n *\n * {tag}\n */\npublic final class Thing {{\n}}\n"


@pytest.mark.parametrize(
    ("tag", "imported"),
    [
        (
            "@throws OpenAIInvalidDataException if not JSON",
            "com.openai.graders.errors.OpenAIInvalidDataException",
        ),
        ("@see OpenAIClient", "com.openai.graders.client.OpenAIClient"),
        ("{@link HttpTimeoutException}", "java.net.http.HttpTimeoutException"),
    ],
)
def test_a_class_named_only_in_javadoc_is_imported(
    java_unit: Callable[[str, str], str], tag: str, imported: str
) -> None:
    assert f"import {imported};" in java_unit(body(tag), PACKAGE)


def test_java_lang_and_declared_classes_need_no_import(java_unit: Callable[[str, str], str]) -> None:
    unit = java_unit(body("@throws IllegalStateException if unset\n * @see Thing"), PACKAGE)
    assert "import" not in unit


def test_a_class_that_cannot_be_imported_is_a_generation_error(java_unit: Callable[[str, str], str]) -> None:
    with pytest.raises(GradergenError) as error:
        java_unit(body("@throws UncheckedIOException if the disk fails"), PACKAGE)
    assert str(error.value) == (
        f"a Javadoc @throws/@see/@link in package {PACKAGE} names UncheckedIOException, which the generated "
        "file cannot import: add it to JDK_AND_JACKSON or RUNTIME_CLASSES, or write it fully qualified"
    )

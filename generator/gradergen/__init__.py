"""gradergen: one canonical spec of OpenAI's graders API, and bindings, schema and validation from it."""

from importlib.metadata import version as _installed_version

from .validation import Problem, grader_schema, validate, validate_text

__version__ = _installed_version("gradergen")
"""The spec's info.version, which the build takes as gradergen's own (pyproject.toml, tool.hatch.version)."""
__all__ = ["Problem", "__version__", "grader_schema", "validate", "validate_text"]

"""gradergen: one canonical spec of OpenAI's graders API, and bindings, schema and validation from it."""

from .validation import Problem, grader_schema, validate, validate_text

__version__ = "0.1.0"
__all__ = ["Problem", "__version__", "grader_schema", "validate", "validate_text"]

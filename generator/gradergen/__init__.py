"""gradergen: one canonical spec of OpenAI's graders API, and bindings, schema and validation from it."""

__version__ = "0.1.0"

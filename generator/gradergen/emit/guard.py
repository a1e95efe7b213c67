"""The template environment that refuses to print spec text unless an escaper has made it safe.

Spec strings arrive as `SpecText` (see `gradergen.spectext`). Here every way a template can turn them
into other text keeps the mark: `~`, `+`, `%` and `*`, string methods, slicing, and every filter that
is not an escaper. Printing marked text (`{{ t.description }}`) is an error naming the template and
line; `{{ t.description | doc }}` is the only way to print it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import types
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Macro
from jinja2.utils import internalcode

from ..spectext import SpecText, is_tainted


class UnescapedSpecText(jinja2.TemplateRuntimeError):
    """A template printed text from the spec without passing it through an escaper."""


def _refuse_spec_text(value: Any) -> Any:
    if type(value) is str:  # most of what is printed: names, and text escapers made
        return value
    if isinstance(value, SpecText):
        shown = str.__repr__(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise UnescapedSpecText(
            f"spec text {shown} is printed without an escaper; pass it through the filter for the "
            "literal it lands in (a string literal, a doc comment, ...)"
        )
    if isinstance(value, bool) or value is None:
        raise UnescapedSpecText(
            f"{value!r} is printed as it is; print the language's own spelling of it instead"
        )
    return value


def _marked(result: Any) -> Any:
    """`result` of an operation on spec text, marked in its turn."""
    if isinstance(result, str):
        return result if isinstance(result, SpecText) else SpecText(result)
    if isinstance(result, list):
        return [_marked(r) for r in result]
    if isinstance(result, tuple):
        return tuple(_marked(r) for r in result)
    if inspect.isgenerator(result) or isinstance(result, Iterator):
        return (_marked(r) for r in result)
    return result


def propagating(func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` whose result is marked whenever one of its arguments is spec text."""
    if getattr(func, "is_escaper", False):
        return func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        for a in args:
            if is_tainted(a):
                return _marked(result)
        for v in kwargs.values():
            if is_tainted(v):
                return _marked(result)
        return result

    return wrapper


def concat(parts: tuple[Any, ...]) -> str:
    """The `~` operator: marked when any part is."""
    for p in parts:
        if type(p) is not str:
            break
    else:  # plain text only, the common case
        return "".join(parts)
    text = "".join([str(p) for p in parts])
    return SpecText(text) if any(isinstance(p, SpecText) for p in parts) else text


class _GuardedCodeGenerator(CodeGenerator):
    """Compiles `~`, `+`, `*` and `%` to calls that keep the mark of spec text."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.spec_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _guarded_binop(self, op: str, node: nodes.BinExpr, frame: Frame) -> None:
        self.write(f"environment.binop({op!r}, ")
        self.visit(node.left, frame)
        self.write(", ")
        self.visit(node.right, frame)
        self.write(")")

    def visit_Add(self, node: nodes.BinExpr, frame: Frame) -> None:
        self._guarded_binop("+", node, frame)

    def visit_Mul(self, node: nodes.BinExpr, frame: Frame) -> None:
        self._guarded_binop("*", node, frame)

    def visit_Mod(self, node: nodes.BinExpr, frame: Frame) -> None:
        self._guarded_binop("%", node, frame)

    # Printing and attribute lookups are most of what a template does. Jinja makes each a call of
    # `environment.finalize` / `environment.getattr`; these take their common case inline (a printed
    # value that is plain text; an attribute an object that is not text has) and call the environment
    # only for the rest, which keeps every check of the guard.
    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
        else:
            self.write("(_out if type(_out := ")

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or frame.eval_ctx.autoescape:
            super()._output_child_post(node, frame, finalize)
        else:
            self.write(") is str else environment.printed(_out))")

    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        if self.environment.is_async:
            super().visit_Getattr(node, frame)
            return
        self.write("(_attr if not isinstance(_obj := ")
        self.visit(node.node, frame)
        self.write(
            f", str) and (_attr := getattr(_obj, {node.attr!r}, missing)) is not missing"
            f" else environment.getattr(_obj, {node.attr!r}))"
        )


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "*": lambda a, b: a * b,
    "%": lambda a, b: a % b,
}


_FUNCTIONS = frozenset({types.FunctionType, types.BuiltinFunctionType, types.BuiltinMethodType})
_TAKES_NO_CONTEXT: dict[Any, bool] = {}
"""By function: whether Jinja would call it as it is (it asks for no context, environment or eval
context). Asked once per function: a bound method is a new object at each lookup, its function is not."""


def _takes_no_context(obj: Any) -> bool:
    kind = type(obj)
    if kind is Macro:  # Jinja never marks its macros
        return True
    if kind is types.MethodType:
        obj = obj.__func__
    elif kind not in _FUNCTIONS:
        return False
    known = _TAKES_NO_CONTEXT.get(obj)
    if known is None:
        known = _TAKES_NO_CONTEXT[obj] = not hasattr(obj, "jinja_pass_arg")
    return known


class _DirectCallContext(jinja2.runtime.Context):
    """Calls from templates go straight to functions, methods and macros that take no context (nearly
    every call a template makes); Jinja's own dispatch, which looks for one first, is kept for the rest."""

    @internalcode
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if not _takes_no_context(__obj):
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_loop_vars", None)
            kwargs.pop("_block_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


CODE_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
"""Changes with this module: compiled templates kept between runs are kept per version of it (Jinja
keys them by their source only, and would serve code another compiler made)."""


class GuardedEnvironment(jinja2.Environment):
    """A Jinja environment in which spec text can only be printed through an escaper.

    `escapers` are registered as they are; every other filter (Jinja's own included) is wrapped to
    keep the mark."""

    code_generator_class = _GuardedCodeGenerator
    context_class = _DirectCallContext

    def __init__(self, escapers: dict[str, Callable[..., str]], **options: Any) -> None:
        super().__init__(finalize=_refuse_spec_text, autoescape=False, **options)
        self.filters = {name: propagating(f) for name, f in self.filters.items()}
        for name, func in escapers.items():
            if not getattr(func, "is_escaper", False):
                raise TypeError(f"filter {name!r} is registered as an escaper but not marked as one")
            self.filters[name] = func

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict, not Jinja's ChainMap over the environment's: every
        render copies them (and lists their keys), and a ChainMap is walked in Python to do it.
        Nothing changes the environment's globals once templates are loaded (Jinja asks the same)."""
        return {**self.globals, **(d or {})}

    def add_filters(self, filters: dict[str, Callable[..., Any]]) -> None:
        """Filters that compute text: their results are marked when their inputs are."""
        self.filters.update({name: propagating(f) for name, f in filters.items()})

    def printed(self, value: Any) -> str:
        """What `{{ value }}` prints: refused when it is spec text (or a bool or None)."""
        return str(_refuse_spec_text(value))

    @staticmethod
    def spec_concat(parts: tuple[Any, ...]) -> str:
        return concat(parts)

    @staticmethod
    def binop(op: str, left: Any, right: Any) -> Any:
        result = _BINOPS[op](left, right)
        if is_tainted(left) or is_tainted(right):
            return _marked(result)
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Jinja's own lookup, inlined: templates look attributes up a great many times
        try:
            value = getattr(obj, attribute)
        except AttributeError:
            try:
                return obj[attribute]
            except (TypeError, LookupError, AttributeError):
                return self.undefined(obj=obj, name=attribute)
        if isinstance(obj, str) and callable(value):
            return _always_marked(value) if isinstance(obj, SpecText) else propagating(value)
        return value

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        return _marked(value) if isinstance(obj, SpecText) else value


def _always_marked(method: Callable[..., Any]) -> Callable[..., Any]:
    """A string method of spec text: what it returns is spec text too."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _marked(method(*args, **kwargs))

    return wrapper

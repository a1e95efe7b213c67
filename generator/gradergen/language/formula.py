"""The multi grader's `calculate_output` formula.

Grammar (from the graders guide): number literals, grader keys, `+ - * / ^`, parentheses and the
functions min, max, abs, floor, ceil, exp, sqrt and log. Where the guide is silent, gradergen decides
(and the README's engine decisions table says so):

    sum     = product (("+" | "-") product)*
    product = unary (("*" | "/") unary)*
    unary   = ("+" | "-") unary | power
    power   = atom ("^" unary)?           # right-associative: 2^3^2 = 2^9; -2^2 = -(2^2)
    atom    = NUMBER | KEY | FUNCTION "(" sum ("," sum)* ")" | "(" sum ")"

min and max take one argument or more, the other functions exactly one; log is the natural logarithm.
Evaluating can fail where arithmetic does — division by zero, log of a number that is not positive,
sqrt of a negative one, exp that overflows — which raises `FormulaEvaluationError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

FUNCTIONS = ("min", "max", "abs", "floor", "ceil", "exp", "sqrt", "log")
VARIADIC = frozenset({"min", "max"})
"""min and max take one argument or more; the other functions take exactly one."""
GRAMMAR = "numbers, grader keys, + - * / ^, ( ) and min max abs floor ceil exp sqrt log"
MAX_LENGTH = 10_000
MAX_NESTING = 50

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>[-+*/^(),])|(?P<bad>\S))"
)
_OPERAND = "a number, a grader key, a function or '('"


class FormulaError(Exception):
    """A formula that cannot be read: its first mistake, at a 1-based character."""

    def __init__(self, position: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.position = position
        self.message = message
        self.hint = hint


class FormulaEvaluationError(ArithmeticError):
    """A formula that reads but cannot be computed for these values (a division by zero, say)."""


# ----------------------------------------------------------------------------- the tree
@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Name:
    name: str
    position: int


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    function: str
    arguments: tuple[Node, ...]


Node = Number | Name | Negate | Binary | Call


def _checked(x: float) -> float:
    if math.isnan(x) or math.isinf(x):
        raise FormulaEvaluationError("the result is not a finite number")
    return x


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise FormulaEvaluationError("division by zero")
    return a / b


def _power(a: float, b: float) -> float:
    try:
        result = math.pow(a, b)
    except (OverflowError, ValueError, ZeroDivisionError):
        raise FormulaEvaluationError(f"{a:g} ^ {b:g} has no real value") from None
    return _checked(result)


def _log(x: float) -> float:
    if x <= 0:
        raise FormulaEvaluationError(f"log({x:g}): the logarithm needs a positive number")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise FormulaEvaluationError(f"sqrt({x:g}): the square root needs a number that is not negative")
    return math.sqrt(x)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise FormulaEvaluationError(f"exp({x:g}) is too large") from None


_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "^": _power,
}
_CALLS: dict[str, Callable[..., float]] = {
    "min": lambda *xs: min(xs),
    "max": lambda *xs: max(xs),
    "abs": abs,
    "floor": lambda x: float(math.floor(x)),
    "ceil": lambda x: float(math.ceil(x)),
    "exp": _exp,
    "sqrt": _sqrt,
    "log": _log,
}


def _evaluate(node: Node, values: Mapping[str, float]) -> float:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        return float(values[node.name])
    if isinstance(node, Negate):
        return -_evaluate(node.operand, values)
    if isinstance(node, Binary):
        return _checked(_BINARY[node.op](_evaluate(node.left, values), _evaluate(node.right, values)))
    return _checked(_CALLS[node.function](*(_evaluate(a, values) for a in node.arguments)))


@dataclass(frozen=True)
class Formula:
    text: str
    tree: Node
    names: tuple[tuple[str, int], ...] = ()
    """The grader keys the formula uses, with their positions, in order of appearance."""

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The formula's value with each key standing for `values[key]`; FormulaEvaluationError when
        arithmetic fails, KeyError for a key without a value."""
        try:
            return _evaluate(self.tree, values)
        except OverflowError:
            raise FormulaEvaluationError("the result is too large") from None


# ----------------------------------------------------------------------------- reading
def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind is None:  # trailing whitespace
            break
        out.append((kind, m.group(kind), m.start(kind) + 1))
    out.append(("end", "", len(text) + 1))
    return out


def _found(kind: str, text: str) -> str:
    return "the end of the formula" if kind == "end" else repr(text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0
        self.names: list[tuple[str, int]] = []

    @property
    def current(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def is_op(self, *values: str) -> bool:
        kind, value, _ = self.current
        return kind == "op" and value in values

    def advance(self) -> tuple[str, str, int]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if self.current[0] == "end":
            raise FormulaError(1, "the formula is empty", "combine the graders' keys, e.g. (a + b) / 2")
        tree = self.sum()
        kind, value, position = self.current
        if kind != "end":
            if value == ")":
                raise FormulaError(position, "')' closes no '('")
            if kind == "bad":
                raise FormulaError(
                    position, f"unexpected character {value!r}", f"the formula may use {GRAMMAR}"
                )
            raise FormulaError(position, f"expected an operator, found {_found(kind, value)}")
        return tree

    def sum(self) -> Node:
        node = self.product()
        while self.is_op("+", "-"):
            op = self.advance()[1]
            node = Binary(op, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.is_op("*", "/"):
            op = self.advance()[1]
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.is_op("+", "-"):
            _, op, position = self.advance()
            self.enter(position, "signs and powers")
            operand = self.unary()
            self.depth -= 1
            return Negate(operand) if op == "-" else operand
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.is_op("^"):
            position = self.advance()[2]
            self.enter(position, "signs and powers")
            exponent = self.unary()
            self.depth -= 1
            return Binary("^", base, exponent)
        return base

    def atom(self) -> Node:
        kind, value, position = self.advance()
        if kind == "number":
            return Number(float(value))
        if kind == "name":
            if self.is_op("("):
                if value not in FUNCTIONS:
                    raise FormulaError(
                        position, f"unknown function {value!r}", "functions: " + ", ".join(FUNCTIONS)
                    )
                return self.call(value, position)
            if value in FUNCTIONS:
                raise FormulaError(position, f"{value} is a function", f"call it: {value}(…)")
            self.names.append((value, position))
            return Name(value, position)
        if kind == "op" and value == "(":
            self.enter(position)
            inner = self.sum()
            self.close(position)
            return inner
        if kind == "bad":
            raise FormulaError(position, f"unexpected character {value!r}", f"the formula may use {GRAMMAR}")
        previous = self.tokens[self.i - 2][1] if self.i >= 2 else ""
        hint = "use ^ for powers" if value == "*" and previous == "*" else ""
        raise FormulaError(position, f"expected {_OPERAND}, found {_found(kind, value)}", hint)

    def call(self, function: str, start: int) -> Node:
        _, _, open_position = self.advance()  # "("
        self.enter(open_position)
        arguments = [self.sum()]
        while self.is_op(","):
            self.advance()
            arguments.append(self.sum())
        self.close(open_position)
        if function not in VARIADIC and len(arguments) != 1:
            raise FormulaError(start, f"{function}() takes one argument, found {len(arguments)}")
        return Call(function, tuple(arguments))

    def enter(self, position: int, what: str = "parentheses") -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FormulaError(position, f"the formula nests {what} more than {MAX_NESTING} deep")

    def close(self, opened: int) -> None:
        kind, value, position = self.current
        if kind == "op" and value == ")":
            self.advance()
            self.depth -= 1
            return
        if kind == "end":
            raise FormulaError(
                position,
                "expected ')', found the end of the formula",
                f"the '(' at character {opened} is never closed",
            )
        if kind == "bad":
            raise FormulaError(position, f"unexpected character {value!r}", f"the formula may use {GRAMMAR}")
        raise FormulaError(position, f"expected an operator, found {_found(kind, value)}")


def parse_formula(text: str) -> Formula:
    """The formula as a tree, with the grader keys it uses; FormulaError at its first mistake."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(1, f"the formula is {len(text)} characters long; write a shorter one")
    return _parse_cached(text)


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Formula:
    parser = _Parser(text)
    tree = parser.parse()
    return Formula(text, tree, tuple(parser.names))

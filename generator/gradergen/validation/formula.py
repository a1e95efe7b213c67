"""The multi grader's `calculate_output` formula.

Grammar (from the graders guide): number literals, grader keys, `+ - * / ^`, parentheses and the
functions min, max, abs, floor, ceil, exp, sqrt and log.

    expr    = operand (("+" | "-" | "*" | "/" | "^") operand)*
    operand = ("+" | "-")* (NUMBER | KEY | FUNCTION "(" expr ("," expr)* ")" | "(" expr ")")

Precedence does not change whether a formula is well formed, so the check is a single left-to-right
pass that alternates between expecting an operand and expecting an operator, with a stack for the
open parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
_OPERATORS = frozenset("+-*/^")
_OPERAND = "a number, a grader key, a function or '('"


class FormulaError(Exception):
    def __init__(self, position: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.position = position
        """1-based character in the formula."""
        self.message = message
        self.hint = hint


@dataclass
class Formula:
    names: list[tuple[str, int]] = field(default_factory=list)
    """The grader keys the formula uses, with their positions."""


@dataclass
class _Open:
    position: int
    """Of the '('."""
    function: str | None = None
    start: int = 0
    """Of the function's name."""
    arguments: int = 1


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


def parse_formula(text: str) -> Formula:
    """The grader keys a formula uses, or FormulaError at its first mistake."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(1, f"the formula is {len(text)} characters long; write a shorter one")
    tokens = _tokens(text)
    if tokens[0][0] == "end":
        raise FormulaError(1, "the formula is empty", "combine the graders' keys, e.g. (a + b) / 2")
    result = Formula()
    stack: list[_Open] = []
    operand = True  # what comes next: an operand, or an operator
    i = 0
    while True:
        kind, value, position = tokens[i]
        if kind == "bad":
            raise FormulaError(position, f"unexpected character {value!r}", f"the formula may use {GRAMMAR}")
        if operand:
            if kind == "number":
                operand = False
            elif kind == "name":
                follows = tokens[i + 1]
                if follows[1] == "(" and follows[0] == "op":
                    if value not in FUNCTIONS:
                        raise FormulaError(
                            position, f"unknown function {value!r}", "functions: " + ", ".join(FUNCTIONS)
                        )
                    stack.append(_Open(follows[2], value, position))
                    i += 1
                elif value in FUNCTIONS:
                    raise FormulaError(position, f"{value} is a function", f"call it: {value}(…)")
                else:
                    result.names.append((value, position))
                    operand = False
            elif value == "(" and kind == "op":
                stack.append(_Open(position))
            elif value not in ("+", "-") or kind != "op":
                previous = tokens[i - 1][1] if i else ""
                hint = "use ^ for powers" if value == "*" and previous == "*" else ""
                raise FormulaError(position, f"expected {_OPERAND}, found {_found(kind, value)}", hint)
            if len(stack) > MAX_NESTING:
                raise FormulaError(position, f"the formula nests parentheses more than {MAX_NESTING} deep")
        elif kind == "end":
            if stack:
                raise FormulaError(
                    position,
                    "expected ')', found the end of the formula",
                    f"the '(' at character {stack[-1].position} is never closed",
                )
            return result
        elif kind == "op" and value in _OPERATORS:
            operand = True
        elif kind == "op" and value == "," and stack and stack[-1].function is not None:
            stack[-1].arguments += 1
            operand = True
        elif kind == "op" and value == ")" and stack:
            closed = stack.pop()
            if closed.function is not None and closed.function not in VARIADIC and closed.arguments != 1:
                raise FormulaError(
                    closed.start, f"{closed.function}() takes one argument, found {closed.arguments}"
                )
        else:
            if value == ")":
                raise FormulaError(position, "')' closes no '('")
            raise FormulaError(position, f"expected an operator, found {_found(kind, value)}")
        i += 1

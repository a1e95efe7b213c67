"""YAML through libyaml's composer: values built from the nodes (string keys, merge keys, aliases
counted), positions read from the nodes a problem names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from .document import Document, Lines, Unreadable, deepest, duplicate_key
from .problem import Problem, parse_pointer, pointer, shown

try:  # the C parser is several times faster; fall back where libyaml is missing
    YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    YamlLoader = yaml.SafeLoader

MAX_YAML_VALUES = 1_000_000
"""YAML aliases can make a small file stand for a huge tree; refuse more values than this."""


def parse_yaml(text: str) -> Iterator[Document | Unreadable]:
    """Every document of a YAML stream; stops at the first one that cannot be read."""
    loader = YamlLoader(text)
    try:
        while True:
            try:
                if not loader.check_node():
                    return
                node = loader.get_node()
                builder = _YamlBuilder(loader)
                value = builder.build(node)
                yield Document(value, YamlLocator(node), node.start_mark.line + 1, builder.duplicates)
            except Unreadable as exc:
                yield exc
                return
            except yaml.MarkedYAMLError as exc:
                yield _yaml_error(exc, text)
                return
            except yaml.YAMLError as exc:
                yield Unreadable(f"not valid YAML: {exc}")
                return
            except RecursionError:
                depth, offset = deepest(text)
                line, column = Lines(text).position(offset) if depth > 20 else (None, None)
                yield Unreadable("nesting is too deep to read", line, column)
                return
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.MarkedYAMLError, text: str = "") -> Unreadable:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "syntax error"
    context = f" ({exc.context})" if exc.context else ""
    hint = ""
    if mark is not None and text:
        row = text.split("\n", mark.line + 1)[mark.line] if mark.line <= text.count("\n") else ""
        if row[mark.column : mark.column + 1] == "\t" or "\\t" in problem:
            hint = "YAML indents with spaces, never tabs"
    if mark is None:
        return Unreadable(f"not valid YAML: {problem}{context}", hint=hint)
    return Unreadable(f"not valid YAML: {problem}{context}", mark.line + 1, mark.column + 1, hint)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


MERGE = "tag:yaml.org,2002:merge"


class _YamlBuilder:
    """Builds JSON-like values from YAML nodes: string keys, merge keys (<<) applied, aliases shared
    but counted as often as they are used, and every key written twice in one mapping reported."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.built: dict[int, tuple[Any, int]] = {}
        self.active: set[int] = set()
        self.path: list[str | int] = []
        """Where the value being built is (the first place, for an alias)."""
        self.duplicates: list[Problem] = []

    def build(self, node: yaml.Node) -> Any:
        return self._build(node)[0]

    def _build(self, node: yaml.Node) -> tuple[Any, int]:
        key = id(node)
        if key in self.built:
            return self.built[key]
        if key in self.active:
            raise Unreadable("a YAML alias refers to a value that contains it", *_mark(node))
        self.active.add(key)
        try:
            result = self._construct(node)
        finally:
            self.active.discard(key)
        if result[1] > MAX_YAML_VALUES:
            raise Unreadable(f"YAML aliases expand to more than {MAX_YAML_VALUES:,} values", *_mark(node))
        self.built[key] = result
        return result

    def _child(self, step: str | int, node: yaml.Node) -> tuple[Any, int]:
        self.path.append(step)
        try:
            return self._build(node)
        finally:
            self.path.pop()

    def _construct(self, node: yaml.Node) -> tuple[Any, int]:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node)
        if isinstance(node, yaml.SequenceNode):
            items = [self._child(i, item) for i, item in enumerate(node.value)]
            return [v for v, _ in items], 1 + sum(n for _, n in items)
        try:
            return self.loader.construct_object(node, deep=True), 1
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc) from None
        except (ValueError, TypeError, OverflowError) as exc:
            reason = str(exc).split(";")[0]  # Python's advice on its limits is not the user's
            raise Unreadable(
                f"cannot read {shown(node.value)}: {reason}", *_mark(node), hint="quote it"
            ) from None

    def _mapping(self, node: yaml.MappingNode) -> tuple[Any, int]:
        out: dict[str, Any] = {}
        size = 1
        merged: dict[str, Any] = {}
        first: dict[str, yaml.Node] | None = None
        for k, v in node.value:
            if k.tag == MERGE:
                for source in v.value if isinstance(v, yaml.SequenceNode) else [v]:
                    value, n = self._build(source)
                    if not isinstance(value, dict):
                        raise Unreadable("a YAML merge (<<) needs a mapping", *_mark(source))
                    merged = {**value, **merged}
                    size += n
                continue
            if not isinstance(k, yaml.ScalarNode):
                raise Unreadable("a mapping key must be a string, not a list or mapping", *_mark(k))
            key = str(k.value)
            if key in out:
                first = first if first is not None else _first_keys(node)
                where = pointer((*self.path, key))
                self.duplicates.append(duplicate_key(where, key, _mark(first[key]), *_mark(k)))
            value, n = self._child(key, v)
            out[key] = value
            size += n
        return ({**merged, **out} if merged else out), size


def _first_keys(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    """The first key node of each name written in a mapping (merges aside)."""
    first: dict[str, yaml.Node] = {}
    for k, _ in node.value:
        if k.tag != MERGE and isinstance(k, yaml.ScalarNode):
            first.setdefault(str(k.value), k)
    return first


_MappingIndex = tuple[dict[str, tuple[yaml.Node, yaml.Node]], list[yaml.Node]]


class YamlLocator:
    """Finds values by JSON pointer in the node tree; each mapping on the way is indexed once."""

    def __init__(self, root: yaml.Node) -> None:
        self.root = root
        self._mappings: dict[int, _MappingIndex] = {}

    def locate(self, where: str, at_key: bool = False) -> tuple[int, int] | None:
        node: yaml.Node | None = self.root
        key: yaml.Node | None = None
        for part in parse_pointer(where):
            found = self._child(node, part) if node is not None else None
            if found is None:
                return None
            key, node = found
        target = key if at_key and key is not None else node
        return _mark(target) if target is not None else None

    def _child(self, node: yaml.Node, part: str, depth: int = 0) -> tuple[yaml.Node | None, yaml.Node] | None:
        if isinstance(node, yaml.SequenceNode):
            if part.isdigit() and int(part) < len(node.value):
                return None, node.value[int(part)]
            return None
        if not isinstance(node, yaml.MappingNode) or depth > 50:
            return None
        members, merges = self._index(node)
        found = members.get(part)
        if found is not None:
            return found
        for source in merges:  # as the builder merges: the first source that has the key wins
            inherited = self._child(source, part, depth + 1)
            if inherited is not None:
                return inherited
        return None

    def _index(self, node: yaml.MappingNode) -> _MappingIndex:
        """(key node, value node) by name, the last written winning as it does in the value; and the
        mappings merged in (<<), in the order they take precedence."""
        index = self._mappings.get(id(node))
        if index is None:
            members: dict[str, tuple[yaml.Node, yaml.Node]] = {}
            merges: list[yaml.Node] = []
            for k, v in node.value:
                if k.tag == MERGE:
                    merges.extend(v.value if isinstance(v, yaml.SequenceNode) else [v])
                elif isinstance(k, yaml.ScalarNode):
                    members[str(k.value)] = (k, v)
            index = self._mappings[id(node)] = (members, merges)
        return index

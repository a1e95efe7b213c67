"""What one language calls the nodes of one IR: the value `apply_naming` returns.

The IR itself holds no names: each language's are kept here, keyed by the node they name (a type, field,
enum value, union member, operation, resource or error class, by identity), so naming one language
cannot change what another reads. A node can have more than one name, each under a role: "" for its own
name, "fallback" for a union's member that keeps unknown values, "accessor" for a resource's attribute
on its parent, and what a language's table adds (Python's "async" class of a resource, say).

Read it as `names(node)` or `names(node, "fallback")` in Python, and as `node | name` or
`node | name("fallback")` in templates.
"""

from __future__ import annotations

from typing import Any

from ..ir.model import IR, Named


class NotNamed(LookupError):
    """A name was asked of a node its language did not name: a bug of the generator, not of the spec."""


class Names:
    """The names of one language for one IR; read-only once `apply_naming` has returned it."""

    def __init__(self, lang: str, ir: IR) -> None:
        self.lang = lang
        self.ir = ir
        self._by_node: dict[tuple[int, str], tuple[object, str]] = {}
        self._complete = False

    def __call__(self, node: object, role: str = "") -> str:
        found = self._by_node.get((id(node), role))
        if found is None or found[0] is not node:
            raise NotNamed(f"{self.lang}: no {_role(role)}name for {_describe(node)}")
        return found[1]

    def has(self, node: object, role: str = "") -> bool:
        found = self._by_node.get((id(node), role))
        return found is not None and found[0] is node

    def type(self, ref: Named | str) -> str:
        """The name of the type `ref` refers to."""
        return self(self.ir.get(ref))

    def record(self, node: object, name: str, role: str = "") -> str:
        """Store `name` as `node`'s (under `role`); only while the IR is being named."""
        if self._complete:
            raise RuntimeError(f"{self.lang}: the names are complete; naming is done and they are read-only")
        self._by_node[(id(node), role)] = (node, name)
        return name

    def complete(self) -> Names:
        self._complete = True
        return self

    def __len__(self) -> int:
        return len(self._by_node)

    # pickled with its IR (for the generation worker): the keys are identities, made again on loading
    def __getstate__(self) -> dict[str, Any]:
        entries = [(node, role, name) for (_, role), (node, name) in self._by_node.items()]
        return {"lang": self.lang, "ir": self.ir, "entries": entries, "complete": self._complete}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.lang, self.ir, self._complete = state["lang"], state["ir"], state["complete"]
        self._by_node = {(id(node), role): (node, name) for node, role, name in state["entries"]}


def _role(role: str) -> str:
    return f"{role!r} " if role else ""


def _describe(node: object) -> str:
    kind = type(node).__name__
    found = (getattr(node, a) for a in ("pointer", "name", "wire", "key") if getattr(node, a, None))
    where = next(found, None)
    if where is None and hasattr(node, "path"):
        where = ".".join(map(str, node.path))
    return f"the {kind} {str(where)!r}" if where else f"a {kind} ({node!r:.80})"

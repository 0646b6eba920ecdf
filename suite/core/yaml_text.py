"""YAML as recipes and plans are read: a key given twice is refused, and aliases cannot blow up.

PyYAML's ``safe_load`` keeps the last of two equal keys without a word (a recipe with two
``train:`` sections silently loses the first), and follows aliases, so that a 1 KB
"billion laughs" document stands for 10**8 values. :func:`load` refuses both, in one line
naming the line and column.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_NODES = 100_000     # values in one document, aliases counted as often as they are used; recipes hold < 500


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping that names one key twice."""


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise DuplicateKeyError(None, None, f"key '{key}' is given twice (first at line "
                                        f"{seen[key].line + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def load(text: str) -> Any:
    """Parse one YAML document like ``yaml.safe_load``, refusing duplicate keys and documents that aliases expand
    to more than :data:`MAX_NODES` values.

    Raises:
        yaml.YAMLError: malformed YAML, a duplicate key (``problem`` names it), or too many values.
    """
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _count(node, [0])
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _count(node: yaml.Node, seen: list[int]) -> None:
    """Count the values ``node`` stands for, aliases expanded, and stop at :data:`MAX_NODES` (never walking more)."""
    seen[0] += 1
    if seen[0] > MAX_NODES:
        raise yaml.constructor.ConstructorError(
            None, None, f"more than {MAX_NODES:,} values once its aliases are expanded (an alias bomb?)",
            node.start_mark)
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _count(child, seen)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _count(key, seen)
            _count(value, seen)

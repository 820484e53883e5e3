"""Reading YAML while remembering the line every key and item came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LineDict(dict[str, Any]):
    """A mapping that knows its own line and the line of each of its keys."""

    line: int
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A sequence that knows its own line and the line of each of its items."""

    line: int
    item_lines: list[int]


# libyaml's parser where PyYAML was built with it (several times faster), else the pure one.
_SafeBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):  # type: ignore[misc]
    """A safe loader whose mappings and sequences carry 1-based line numbers."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> object:
    # An unquoted impossible date (2026-02-30) would escape as a bare ValueError, without its line.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a real date (write YYYY-MM-DD)", node.start_mark
        ) from None


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
    _construct_sequence,
)


class YamlSyntaxError(Exception):
    """A file that is not valid YAML, with the line where reading stopped."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_yaml(path: Path) -> Any:
    """Parse one YAML file into LineDict/LineList trees."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(line, f"invalid YAML: {what}") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"invalid YAML: {exc}") from exc


def line_at(tree: Any, path: tuple[str | int, ...]) -> int:
    """The line of the deepest node on `path` that the tree knows about."""
    line = getattr(tree, "line", 1)
    node = tree
    for step in path:
        if isinstance(node, LineDict) and isinstance(step, str) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line

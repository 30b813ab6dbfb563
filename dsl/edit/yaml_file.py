"""One YAML config file, loaded with ruamel.yaml's round trip and edited in place.

`YamlFile.parse(text)` keeps the original text; edits go to the ruamel document;
`text()` writes the original with only the lines the edits changed (see merge.py).
Paths are tuples of mapping keys and list indexes, as `("pipelines", 0, "stages")`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    ScalarString,
    SingleQuotedScalarString,
)

from dsl.edit.merge import apply_change

YamlPath = tuple[str | int, ...]

# The layouts tried when dumping (mapping indent, sequence indent, dash offset); the
# one whose dump of the untouched file is closest to the file is used for the edits.
_LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 2, 2))


class YamlEditError(ValueError):
    """An edit or a file the builder cannot carry out, with a message for the page."""


def _yaml(layout: tuple[int, int, int]) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1_000_000  # never re-wrap a long line
    yaml.indent(mapping=layout[0], sequence=layout[1], offset=layout[2])
    return yaml


def _dump(yaml: YAML, document: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def _newlines_like(original: str, dumped: str) -> str:
    """Windows line endings stay Windows line endings."""
    if "\r\n" in original:
        return dumped.replace("\r\n", "\n").replace("\n", "\r\n")
    return dumped


def plain(node: Any) -> Any:
    """A loaded document as plain dicts, lists and scalars, for comparing two loads."""
    if isinstance(node, dict):
        return {str(key): plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(item) for item in node]
    if isinstance(node, str):
        return str(node)
    return node


def _distance(left: str, right: str) -> int:
    a, b = left.splitlines(), right.splitlines()
    return sum(1 for x, y in zip(a, b, strict=False) if x != y) + abs(len(a) - len(b))


@dataclass
class YamlFile:
    original: str
    document: Any
    _yaml: YAML
    _baseline: str

    @classmethod
    def parse(cls, text: str) -> YamlFile:
        try:
            document = _yaml(_LAYOUTS[0]).load(text)
        except YAMLError as error:
            raise YamlEditError(f"the file is not valid YAML: {error}") from error
        best: tuple[int, YAML, str] | None = None
        for layout in _LAYOUTS:
            yaml = _yaml(layout)
            dumped = _dump(yaml, document) if document is not None else ""
            dumped = _newlines_like(text, dumped)
            score = _distance(dumped, text)
            if best is None or score < best[0]:
                best = (score, yaml, dumped)
            if score == 0:
                break
        assert best is not None
        return cls(text, document, best[1], best[2])

    def text(self) -> str:
        """The file with this document's edits; every untouched line as it was read.

        Should keeping the author's layout around an edit ever give a file that reads
        differently from the edited document (an odd indent next to an edited line),
        the whole file is written in ruamel's layout instead: right beats pretty.
        """
        edited = self._render()
        merged = apply_change(self.original, self._baseline, edited)
        if merged == self.original or merged == edited:
            return merged
        try:
            if plain(_yaml(_LAYOUTS[0]).load(merged)) == plain(self.document):
                return merged
        except YAMLError:
            pass
        return edited

    def _render(self) -> str:
        dumped = _dump(self._yaml, self.document) if self.document is not None else ""
        return _newlines_like(self.original, dumped)

    # ----- reading ------------------------------------------------------------

    def get(self, path: YamlPath) -> Any:
        node = self.document
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError) as error:
                raise YamlEditError(f"nothing at {_show(path)}") from error
        return node

    def has(self, path: YamlPath) -> bool:
        try:
            self.get(path)
        except YamlEditError:
            return False
        return True

    # ----- editing --------------------------------------------------------------

    def set(self, path: YamlPath, value: Any) -> None:
        """Set one value; a string keeps the quoting style of the string it replaces."""
        parent, key = self._parent(path)
        if isinstance(parent, CommentedSeq) and not isinstance(key, int):
            raise YamlEditError(f"{_show(path)} is a list item: give its index")
        old = _lookup(parent, key)
        value = _like(old, value)
        if old == value and type(old) is type(value):
            return
        parent[key] = value

    def remove(self, path: YamlPath) -> None:
        parent, key = self._parent(path)
        last = _is_last(parent, key)
        tail = _take_tail(parent) if last else None
        try:
            del parent[key]
        except (KeyError, IndexError, TypeError) as error:
            raise YamlEditError(f"nothing at {_show(path)}") from error
        if tail is not None and len(parent):
            # ruamel keeps the comment or blank lines after a collection on its last
            # item; when that item goes, they stay with the new last item.
            _give_tail(parent, tail)

    def insert(self, path: YamlPath, index: int, value: Any) -> None:
        """Insert `value` into the list at `path`, before `index` (len to append)."""
        items = self.get(path)
        if not isinstance(items, list):
            raise YamlEditError(f"{_show(path)} is not a list")
        items.insert(index, _plain_to_commented(value))

    def move(self, path: YamlPath, old: int, new: int) -> None:
        """Move the list item at `old` to position `new` of the list at `path`."""
        items = self.get(path)
        if not isinstance(items, list) or not (0 <= old < len(items) and 0 <= new < len(items)):
            raise YamlEditError(f"cannot move item {old} to {new} in {_show(path)}")
        item = items.pop(old)
        items.insert(new, item)

    def put(self, path: YamlPath, key: str, value: Any) -> None:
        """Add or replace `key` in the mapping at `path` (new keys go last)."""
        mapping = self.get(path)
        if not isinstance(mapping, dict):
            raise YamlEditError(f"{_show(path)} is not a mapping")
        mapping[key] = _like(mapping.get(key), _plain_to_commented(value))

    def rename_key(self, path: YamlPath, old: str, new: str) -> None:
        """Rename a mapping key where it stands, keeping its value and its comment."""
        mapping = self.get(path)
        if not isinstance(mapping, CommentedMap) or old not in mapping:
            raise YamlEditError(f"no key {old!r} at {_show(path)}")
        if new in mapping:
            raise YamlEditError(f"{_show(path)} already has a key {new!r}")
        position = list(mapping.keys()).index(old)
        comment = mapping.ca.items.pop(old, None)
        value = mapping.pop(old)
        mapping.insert(position, new, value)
        if comment is not None:
            mapping.ca.items[new] = comment

    def _parent(self, path: YamlPath) -> tuple[Any, str | int]:
        if not path:
            raise YamlEditError("an edit needs a path")
        return self.get(path[:-1]), path[-1]


def _is_last(parent: Any, key: str | int) -> bool:
    if isinstance(parent, list):
        return isinstance(key, int) and key in (len(parent) - 1, -1)
    if isinstance(parent, dict):
        return bool(parent) and list(parent.keys())[-1] == key
    return False


def _tail_holder(node: Any) -> tuple[Any, Any] | None:
    """The innermost (collection, key) whose comment slot follows the whole `node`."""
    holder = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = list(node.keys())[-1] if isinstance(node, dict) else len(node) - 1
        holder = (node, key)
        node = node[key]
    return holder


def _take_tail(parent: Any) -> Any:
    holder = _tail_holder(parent)
    if holder is None:
        return None
    collection, key = holder
    entry = collection.ca.items.get(key)
    if not entry:
        return None
    slot = 2 if isinstance(collection, dict) else 0
    token = entry[slot] if len(entry) > slot else None
    value = str(getattr(token, "value", ""))
    # The token is the rest of the item's line (an end-of-line comment, which goes
    # with the item) and then whatever follows the collection (which stays).
    _own_line, newline, following = value.partition("\n")
    if token is None or not newline or not following:
        return None
    token.value = "\n" + following
    entry[slot] = None
    return token


def _give_tail(parent: Any, token: Any) -> None:
    holder = _tail_holder(parent)
    if holder is None:
        return
    collection, key = holder
    slot = 2 if isinstance(collection, dict) else 0
    entry = collection.ca.items.setdefault(key, [None, None, None, None])
    while len(entry) <= slot:
        entry.append(None)
    if entry[slot] is None:
        entry[slot] = token
    else:
        entry[slot].value = str(entry[slot].value) + str(token.value)[1:]


def _lookup(parent: Any, key: str | int) -> Any:
    try:
        return parent[key]
    except (KeyError, IndexError, TypeError):
        return None


def _like(old: Any, value: Any) -> Any:
    """A new string written in the style the old one had: quoted, literal or folded."""
    if isinstance(value, str) and not isinstance(value, ScalarString):
        for style in (
            SingleQuotedScalarString,
            DoubleQuotedScalarString,
            LiteralScalarString,
            FoldedScalarString,
        ):
            if isinstance(old, style):
                return style(value)
    return value


def _plain_to_commented(value: Any) -> Any:
    if isinstance(value, dict) and not isinstance(value, CommentedMap):
        mapping = CommentedMap()
        for key, item in value.items():
            mapping[key] = _plain_to_commented(item)
        return mapping
    if isinstance(value, list) and not isinstance(value, CommentedSeq):
        return CommentedSeq(_plain_to_commented(item) for item in value)
    return value


def _show(path: YamlPath) -> str:
    return ".".join(str(part) for part in path) or "(top)"


def line_of(document: Any, path: YamlPath) -> int | None:
    """The 1-based line where the value at `path` is written, if known."""
    node: Any = document
    try:
        for part in path[:-1]:
            node = node[part]
        key = path[-1]
        where = node.lc
        line, _ = where.item(key) if isinstance(node, list) else where.value(key)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return int(line) + 1


def walk_scalars(node: Any, path: YamlPath = ()) -> Iterator[tuple[YamlPath, Any]]:
    """Every scalar leaf of a loaded document with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk_scalars(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_scalars(value, (*path, index))
    else:
        yield path, node

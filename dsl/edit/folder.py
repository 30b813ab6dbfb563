"""A draft of edits to one workspace folder: files are read once, edited in memory,
and nothing touches the disk here; `changes()` says which files would be written."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from dsl.edit.yaml_file import YamlEditError, YamlFile


def read_text(path: Path) -> str:
    """A config file's exact text: line endings are not translated."""
    return path.read_bytes().decode("utf-8")


def config_paths(folder: Path) -> list[Path]:
    """Every file of a workspace folder the builder reads or writes."""
    paths = [*folder.glob("*.yaml"), *(folder / "rules").glob("*.kazi")]
    paths += (folder / "tests").glob("*.yaml")
    return sorted(p for p in paths if p.is_file())


def folder_version(folder: Path) -> str:
    """A hash of every config file's name and bytes: what a page was read from.

    A save carries the version its page showed; if the folder changed since (another
    manager, a `git pull`), the save is refused rather than silently overwriting.
    """
    digest = hashlib.sha256()
    for path in config_paths(folder):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class FileChange:
    name: str  # the path inside the folder, as "pipelines.yaml" or "rules/sales.kazi"
    before: str | None  # None: a new file
    after: str


@dataclass
class FolderDraft:
    folder: Path
    _texts: dict[str, str] = field(default_factory=dict)
    _originals: dict[str, str | None] = field(default_factory=dict)
    _yaml: dict[str, YamlFile] = field(default_factory=dict)

    def original(self, name: str) -> str | None:
        if name not in self._originals:
            path = self.folder / name
            self._originals[name] = read_text(path) if path.is_file() else None
        return self._originals[name]

    def text(self, name: str) -> str:
        """The file's text with the draft's edits so far ('' for a missing file)."""
        if name in self._yaml:
            return self._yaml[name].text()
        if name in self._texts:
            return self._texts[name]
        return self.original(name) or ""

    def yaml(self, name: str) -> YamlFile:
        """The YAML file to edit; its edits are kept in the draft."""
        if name not in self._yaml:
            text = self._texts.pop(name, None)
            if text is None:
                text = self.original(name)
            if text is None:
                raise YamlEditError(f"{name} does not exist in the workspace folder")
            self._yaml[name] = YamlFile.parse(text)
        return self._yaml[name]

    def set_text(self, name: str, text: str) -> None:
        """Replace a whole file's text (the rule text editor)."""
        self.original(name)
        self._yaml.pop(name, None)
        self._texts[name] = text

    def rule_files(self) -> list[str]:
        names = {str(p.relative_to(self.folder)) for p in (self.folder / "rules").glob("*.kazi")}
        names |= {n for n in self._texts if n.startswith("rules/")}
        return sorted(names)

    def changes(self) -> list[FileChange]:
        out = []
        for name in sorted({*self._texts, *self._yaml}):
            before, after = self.original(name), self.text(name)
            if before != after:
                out.append(FileChange(name, before, after))
        return out

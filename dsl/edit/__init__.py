"""The builder's file editing: YAML through ruamel's round trip, rules by AST spans,
every untouched line kept byte for byte. Pure code: nothing here writes to disk."""

from dsl.edit.folder import FileChange, FolderDraft, folder_version, read_text
from dsl.edit.yaml_file import YamlEditError, YamlFile

__all__ = ["FileChange", "FolderDraft", "YamlEditError", "YamlFile", "folder_version", "read_text"]

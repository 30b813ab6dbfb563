"""The YAML side of a workspace folder: schemas, positions, the typed config model."""

from dsl.config.loader import load_config
from dsl.config.secrets import check_secrets

__all__ = ["check_secrets", "load_config"]

"""The YAML side of a workspace folder: schemas, positions, the typed config model."""

"""Thin controllers: each handler calls a service and returns a page or a schema."""

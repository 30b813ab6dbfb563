"""Alembic migrations, shipped inside the package so an installed `kazi` can migrate."""

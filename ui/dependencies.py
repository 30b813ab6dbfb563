"""What handlers may ask Litestar for, declared once."""

from __future__ import annotations

from litestar.di import NamedDependency

from engine.composition import Runtime

RuntimeDependency = NamedDependency[Runtime]
"""The process's wired runtime: database, queue, clock, configs."""

"""Storage plumbing: engines, migrations, workspace-aware sessions and the change feed."""

from engine.db.engine import make_engine
from engine.db.migrate import alembic_config, migrate
from engine.db.sessions import (
    TRANSACTION_BOUND,
    SessionFactory,
    all_or_nothing,
    batch_cache,
    enable_batch_cache,
    system_session,
    unit_of_work,
    workspace_session,
)

__all__ = [
    "TRANSACTION_BOUND",
    "SessionFactory",
    "alembic_config",
    "all_or_nothing",
    "batch_cache",
    "enable_batch_cache",
    "make_engine",
    "migrate",
    "system_session",
    "unit_of_work",
    "workspace_session",
]

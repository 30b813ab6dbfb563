"""A smoke run of bench/inbox.py on a tiny seed, on this run's database (SQLite or
PostgreSQL): the seed writes what it says, and every view it measures shows rows.
No timing is asserted here; the figures come from the full run (README)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from sqlalchemy import Engine, func, select

from engine.db import workspace_session
from engine.models import Contact, Conversation, ConversationTag, Identity, Message
from engine.workspaces.directory import ConfigDirectory
from tests.inbox.seed import NOW, fast_password_hashing


def _load_bench() -> ModuleType:
    """bench/ is a folder of scripts, not a package: load the script by its path."""
    path = Path(__file__).resolve().parents[2] / "bench" / "inbox.py"
    spec = importlib.util.spec_from_file_location("kazi_bench_inbox", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
SIZES = bench.Sizes(contacts=60, conversations=150, messages=900, teammates=6)
RUNS = 2


def test_the_inbox_benchmark_seeds_and_measures_every_view(db: Engine, database_url: str) -> None:
    with fast_password_hashing():
        seeded = bench.seed(db, SIZES, NOW)
        with workspace_session(db, seeded.workspace_id) as session:

            def count(model: type, *where: object) -> int:
                return int(session.scalar(select(func.count()).select_from(model).where(*where)))  # type: ignore[arg-type]

            assert count(Contact) == SIZES.contacts
            assert count(Identity, Identity.is_current.is_(True)) == SIZES.contacts
            assert count(Identity, Identity.is_current.is_(False)) == 3  # changed numbers
            assert count(Conversation) == SIZES.conversations
            assert count(Conversation, Conversation.status != "resolved") == 40
            assert count(Message) == SIZES.messages
            assert count(ConversationTag) > 0
            assert all(
                address.startswith("+254") and len(address) == 13
                for address in session.scalars(select(Identity.address))
            )
        with bench.config_folder(seeded.slug) as folder:
            configs = folder / "configs"
            figures = bench.measure_services(db, seeded, RUNS, NOW, ConfigDirectory(configs))
            figures += bench.measure_pages(
                database_url, seeded, RUNS, NOW, configs, Path(folder) / "var"
            )
    assert len(figures) == 16 + 11 + 5  # services, inbox pages, the other pages
    for figure in figures:
        assert len(figure.times_ms) == RUNS, figure.name
        assert max(figure.rows) > 0, f"{figure.name} showed no rows"
    printed = bench.table(figures)
    assert all(figure.name in printed for figure in figures)

"""Benchmark: importing a contact list of N rows (issue 14: 50,000 in under a minute).

    python bench/import_contacts.py [--rows 50000] [--postgres]

Generates a CSV of N Kenyan customers (names, numbers written the way shops write them,
a company for some, tags, opt-in with a date, a county field), loads the retail sample
and times `kazi import contacts` on a fresh database (process start, reading and checking
every row, writing).
Runs it a second time to show the re-run is idempotent (nothing created) and how long
matching every row against existing contacts takes.

SQLite by default (a file in a temporary folder); --postgres uses a fresh database on
KAZI_BENCH_POSTGRES_URL (default the local `test` server), dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.db import make_engine, migrate, workspace_session  # noqa: E402
from engine.models import Contact, ContactConsent, ContactTag, Identity  # noqa: E402

ADMIN_URL = os.environ.get(
    "KAZI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FIRST = ["Amina", "Brian", "Faith", "Wanjiru", "Otieno", "Achieng", "Kamau", "Njeri", "Mwangi"]
LAST = ["Wanjiku", "Otieno", "Mutua", "Kiprop", "Odhiambo", "Chebet", "Kariuki", "Akinyi"]
COUNTIES = ["nairobi", "kiambu", "machakos", "kajiado", "nakuru", "mombasa"]


def write_list(path: Path, rows: int, seed: int = 14) -> None:
    rng = random.Random(seed)
    numbers = rng.sample(range(10_000_000, 99_999_999), rows)
    with path.open("w", encoding="utf-8") as out:
        out.write("Name,Phone,Company,Language,Tags,Opt-in,Opt-in date,County\n")
        for n, number in enumerate(numbers):
            prefix = rng.choice(("07", "+254 7", "2547", "0 7"))
            phone = f"{prefix}{number // 10**7 % 10}{number % 10**7:07d}"
            company = f"Duka {n % 500}" if n % 4 == 0 else ""
            tags = ", ".join(rng.sample(["vip", "wholesale", "nairobi", "promo-2025"], k=n % 3))
            opt_in = "yes" if n % 3 else "no"
            out.write(
                f"{rng.choice(FIRST)} {rng.choice(LAST)},{phone},{company},"
                f'{rng.choice(("sw", "en"))},"{tags}",{opt_in},'
                f"{'2025-03-01' if opt_in == 'yes' else ''},{rng.choice(COUNTIES)}\n"
            )


def kazi(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        raise SystemExit(f"kazi {' '.join(args)} failed")
    return elapsed, done.stdout.strip()


def run(url: str, folder: Path, rows: int) -> None:
    migrate(url)
    env = {
        **os.environ,
        "KAZI_DATABASE_URL": url,
        "KAZI_CONFIG_DIR": str(ROOT / "configs"),
        "KAZI_VAR_DIR": str(folder / "var"),
    }
    kazi(env, "load", str(ROOT / "configs" / "retail"))
    listing = folder / "contacts.csv"
    write_list(listing, rows)
    size = listing.stat().st_size / 1024 / 1024
    print(f"{rows} rows, {size:.1f} MB, on {make_url(url).get_backend_name()}")
    first, said = kazi(env, "import", "contacts", str(listing), "--workspace", "retail")
    print(f"first import:  {first:6.1f} s  ({said})")
    again, said = kazi(env, "import", "contacts", str(listing), "--workspace", "retail")
    print(f"same file again: {again:4.1f} s  ({said})")
    db = make_engine(url)
    with db.connect() as connection:
        workspace_id = connection.execute(
            text("SELECT id FROM workspaces WHERE slug = 'retail'")
        ).scalar_one()
    with workspace_session(db, workspace_id) as session:
        counted = {
            name: session.scalar(select(func.count()).select_from(model))
            for name, model in (
                ("contacts", Contact),
                ("numbers", Identity),
                ("tags", ContactTag),
                ("opt-ins", ContactConsent),
            )
        }
    db.dispose()
    print("in the database:", ", ".join(f"{n} {k}" for k, n in counted.items()))
    verdict = "under" if first < 60 else "OVER"
    print(f"target: {rows} rows in under 60 s — {verdict} ({first:.1f} s, process start included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--postgres", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if not arguments.postgres:
            run(f"sqlite:///{folder / 'bench.sqlite3'}", folder, arguments.rows)
            return
        name = f"kazi_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(
                make_url(ADMIN_URL).set(database=name).render_as_string(False),
                folder,
                arguments.rows,
            )
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()

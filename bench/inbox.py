"""Benchmark: the inbox's queues, the conversation page and search on a big workspace.

    python bench/inbox.py [--contacts 100000] [--conversations 300000] [--messages 3000000]
                          [--teammates 50] [--runs 200] [--database-url URL] [--keep | --reuse]

Creates a PostgreSQL database (`kazi_bench` on the server of KAZI_BENCH_POSTGRES_URL,
default the local one), migrates it with engine.db.migrate and seeds one workspace
through COPY: N contacts with current Kenyan WhatsApp numbers (some with an older,
closed number), conversations of which about 1 % are open (spread over owners, teams,
stages, waiting-on and snoozes) and the rest resolved over two years, tags, and
messages in an English/Swahili mix. Then it measures p50/p95 of

  * service time: the engine functions the page handlers call, in one workspace
    session each, as the handlers do (list_queue + queue_counts for a queue view,
    conversation_view for a conversation, list_queue with a search filter);
  * page time: real GET requests to the Litestar app through litestar.testing's
    TestClient, signed in as a teammate (session lookup, header, every query the
    handler runs, template rendering; no network, no HTTP parsing of a real socket).

Targets (issue 5): p95 < 50 ms for queues and the conversation page, < 200 ms for search.
`--keep` leaves the database for another run; `--reuse` measures it again without
seeding (it still migrates, so new indexes land on the seeded data).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.auth.passwords import hash_password  # noqa: E402
from engine.auth.principal import Principal, Role  # noqa: E402
from engine.db import make_engine, migrate, system_session, workspace_session  # noqa: E402
from engine.inbox.conversation import conversation_view  # noqa: E402
from engine.inbox.queues import Queue, QueueFilters, list_queue, queue_counts  # noqa: E402
from engine.models import (  # noqa: E402
    Base,
    Contact,
    Conversation,
    Identity,
    Message,
    Team,
    Teammate,
    TeamMembership,
    Workspace,
)
from engine.workspaces.directory import ConfigDirectory  # noqa: E402

ADMIN_URL = os.environ.get(
    "KAZI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BENCH_DATABASE = "kazi_bench"
SLUG = "bench-duka"
PASSWORD = "bench horse battery staple"
BUSINESS_NUMBER = "+254711502300"
OTHER_PAGE_TARGET_MS = 100.0
QUEUE_TARGET_MS = 50.0
SEARCH_TARGET_MS = 200.0

FIRST = (  # noqa: SIM905 (reads better as prose)
    "Amina Wanjiru Otieno Kamau Achieng Mwangi Njeri Kiptoo Chebet Mutua Akinyi "
    "Omondi Hassan Fatuma Juma Baraka Zawadi Wambui Kiprop Nekesa Halima Brian Faith "
    "Kevin Mercy Dennis Grace Collins Esther Peter Mary John Ann Joseph Lucy David "
    "Nafula Wekesa Atieno Ochieng Moraa Nyambura Mumbua Kilonzo Ali Mohamed Rehema "
    "Said Tabitha Cynthia"
).split()
LAST = (  # noqa: SIM905 (reads better as prose)
    "Hassan Mwangi Otieno Kamau Njoroge Wanjiku Odhiambo Kiprotich Chege Mutiso Ouma "
    "Barasa Wafula Kariuki Onyango Kimani Macharia Omondi Ndungu Mbugua Korir "
    "Cheruiyot Owino Were Abdalla Mohamed Ali Juma Nyaga Gitau Muriuki Karanja Ruto "
    "Langat Rotich"
).split()
PRODUCTS = (  # noqa: SIM905 (reads better as prose)
    "Samsung A15|Tecno Spark 20|Infinix Hot 40|Itel A70|Redmi 13C|Oppo A18|iPhone 12|"
    "earphones|charger|power bank|solar lamp|gas cylinder 13kg|unga wa ngano|"
    "sukari 2kg|cooking oil 5L|school shoes|kitenge fabric|mattress 5x6|TV 43 inch|"
    "fridge|blender|water tank|jiko|radio|memory card|screen protector|phone cover|"
    "laptop bag"
).split("|")
PLACES = (  # noqa: SIM905 (reads better as prose)
    "Nairobi CBD|Westlands|Kisumu|Mombasa|Nakuru|Eldoret|Thika|Rongai|Kitengela|"
    "Ruiru|Machakos|Kikuyu|Embakasi|Kasarani|Githurai|Ngong|Kakamega|Nyeri|Meru|"
    "Malindi"
).split("|")
INBOUND = (
    "Habari, mna {p}?",
    "Bei ya {p} ni ngapi?",
    "Hello, do you have {p} in stock?",
    "Nimetuma {a} kwa M-Pesa, code {c}",
    "I have paid {a}, M-Pesa code {c}",
    "Mnaweza deliver {p} {l} kesho?",
    "Order yangu iko wapi? Nililipa jana",
    "Asante sana, nimepokea {p} salama",
    "Can you deliver to {l} today?",
    "Sawa, nitakuja dukani {l} jioni",
    "The {p} you sent is not working, naomba mbadilishe",
    "Je, {p} ina warranty?",
    "Niko {l}, delivery ni bei gani?",
    "Please send photos of the {p}",
    "Nataka {p} mbili, discount iko?",
    "Thank you, karibu tena",
)
OUTBOUND = (
    "Karibu! Ndio tuko na {p} kwa {a}",
    "Hi, yes the {p} is available at {a}",
    "Tumepokea malipo yako {c}, asante",
    "Your order of {p} is on the way to {l}",
    "Delivery to {l} ni {a}, rider atakupigia",
    "Pole sana, tutabadilisha {p} leo",
    "Tafadhali tuma location yako",
    "We are open until 6pm, karibu {l}",
    "Warranty ya {p} ni mwaka mmoja",
    "Sorry, {p} is out of stock, tutakuambia ikifika",
)
TAGS = ("vip", "wholesale", "complaint", "mpesa", "delivery", "returning", "lead", "warranty")
STAGES = ("new", "qualified", "quoted", "won", "lost")
TEAMS = (
    ("sales", "Sales"),
    ("support", "Support"),
    ("fulfilment", "Fulfilment"),
    ("payments", "Payments"),
    ("wholesale", "Wholesale"),
)
# open conversations cycle through these (status, waiting_on) pairs
OPEN_STATES = (
    ("waiting_on_us", "us"),
    ("waiting_on_us", "us"),
    ("waiting_on_customer", "customer"),
    ("open", "us"),
    ("waiting_on_customer", "customer"),
    ("snoozed", None),
    ("waiting_on_us", "us"),
    ("waiting_on_customer", "customer"),
    ("open", None),
    ("waiting_on_us", "us"),
)


@dataclass(frozen=True)
class Sizes:
    contacts: int = 100_000
    conversations: int = 300_000
    messages: int = 3_000_000
    teammates: int = 50

    @property
    def open_conversations(self) -> int:
        """About 1 % open, as in a shop that resolves what it answers; at least a few
        dozen so every queue holds something on a tiny seed."""
        wanted = max(self.conversations // 100, min(self.conversations // 2, 40))
        return min(self.contacts, wanted)


@dataclass(frozen=True)
class Seeded:
    workspace_id: int
    slug: str
    teammates: list[tuple[int, str, Role, int]]  # id, handle, role, team id
    owners: list[int]  # teammates who own at least one open conversation
    first_ids: dict[str, int]  # table -> first id this seed wrote
    sizes: Sizes


@dataclass
class Figure:
    name: str
    kind: str  # "service" | "page"
    target_ms: float
    times_ms: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # rows shown per run (list length or count)

    @property
    def p50(self) -> float:
        return percentile(self.times_ms, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 0.95)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


# --- seeding ----------------------------------------------------------------------------


class Progress:
    """One line per table on stderr, rewritten as rows stream in."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def rows(self, table: str, total: int, rows: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        started = time.perf_counter()
        # A terminal gets a live line; a log file gets one line every tenth.
        live = sys.stderr.isatty()
        step = max(1, total // (100 if live else 10))
        done = 0
        for done, row in enumerate(rows, 1):
            if self.enabled and done % step == 0:
                rate = done / max(time.perf_counter() - started, 1e-9)
                line = f"  {table}: {done:,}/{total:,} ({rate:,.0f} rows/s)"
                print(f"\r{line}" if live else line, end="" if live else "\n", file=sys.stderr)
            yield row
        if self.enabled:
            took = time.perf_counter() - started
            print(f"\r  {table}: {done:,} rows in {took:.1f} s" + " " * 20, file=sys.stderr)

    def note(self, message: str) -> None:
        if self.enabled:
            print(f"  {message}", file=sys.stderr)


def phone(n: int) -> str:
    """A distinct Kenyan mobile number in E.164 for each n < 10**8 (a bijection, so no
    two contacts share one, and neighbouring contacts do not get neighbouring numbers)."""
    return f"+2547{(n * 48_271 + 12_345_679) % 10**8:08d}"


def old_phone(n: int) -> str:
    return f"+2541{(n * 69_621 + 7_654_321) % 10**8:08d}"


def mpesa_code(rng: random.Random) -> str:
    return "S" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=9))


def body(rng: random.Random, inbound: bool) -> str:
    shape = rng.choice(INBOUND if inbound else OUTBOUND)
    return shape.format(
        p=rng.choice(PRODUCTS),
        l=rng.choice(PLACES),
        a=f"KES {rng.randrange(200, 60_000, 50):,}",
        c=mpesa_code(rng),
    )


@dataclass(frozen=True)
class Thread:
    """What one seeded conversation looks like; derived from its number alone, so the
    messages pass can recompute it without holding 300,000 of them in memory."""

    index: int
    contact_index: int
    status: str
    waiting_on: str | None
    owner: int | None  # index into the teammates list
    team: int | None  # index into TEAMS
    stage: str | None
    priority: str
    opened_at: datetime
    last_customer_at: datetime
    resolved_at: datetime | None
    snoozed_until: datetime | None
    tags: tuple[str, ...]


def thread(index: int, sizes: Sizes, teammates: int, now: datetime) -> Thread:
    rng = random.Random(index * 7_919 + 17)
    first_open = sizes.conversations - sizes.open_conversations
    stage = rng.choice(STAGES) if rng.random() < 0.7 else None
    priority = rng.choices(("normal", "high", "urgent", "low"), (85, 9, 2, 4))[0]
    tags = tuple(sorted(set(rng.sample(TAGS, rng.choice((1, 1, 2)))))) if rng.random() < 0.3 else ()
    if index >= first_open:
        j = index - first_open
        status, waiting_on = OPEN_STATES[j % len(OPEN_STATES)]
        owner = None if j % 4 == 3 else (j * 3 // 4) % teammates
        team = owner % len(TEAMS) if owner is not None else (j % 6 if j % 6 < 5 else None)
        last = now - timedelta(seconds=rng.randrange(60, 3 * 86_400))
        return Thread(
            index=index,
            contact_index=index % sizes.contacts,
            status=status,
            waiting_on=waiting_on,
            owner=owner,
            team=team,
            stage=stage,
            priority=priority,
            opened_at=last - timedelta(minutes=rng.randrange(5, 600)),
            last_customer_at=last,
            resolved_at=None,
            snoozed_until=now + timedelta(hours=rng.randrange(1, 72))
            if status == "snoozed"
            else None,
            tags=tags,
        )
    opened = now - timedelta(seconds=rng.randrange(3 * 86_400, 730 * 86_400))
    owner = rng.randrange(teammates)
    last = opened + timedelta(minutes=rng.randrange(1, 600))
    return Thread(
        index=index,
        contact_index=index % sizes.contacts,
        status="resolved",
        waiting_on=None,
        owner=owner,
        team=owner % len(TEAMS),
        stage=stage,
        priority=priority,
        opened_at=opened,
        last_customer_at=last,
        resolved_at=last + timedelta(minutes=rng.randrange(5, 2_000)),
        snoozed_until=None,
        tags=tags,
    )


def _first_id(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")) or 1)


class Sink:
    """Writes streamed rows into a table: COPY on PostgreSQL, batched inserts on SQLite."""

    def __init__(self, engine: Engine, progress: Progress) -> None:
        self.engine = engine
        self.progress = progress

    def write(
        self, table: str, columns: tuple[str, ...], total: int, rows: Iterable[tuple[Any, ...]]
    ) -> None:
        rows = self.progress.rows(table, total, rows)
        if self.engine.dialect.name == "postgresql":
            self._copy(table, columns, rows)
        else:
            self._insert(table, columns, rows)

    def _copy(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
        raw = self.engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            with connection.cursor() as cursor:
                statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row])
                # The seed wrote its own ids: move the sequence past them.
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            raw.commit()
        finally:
            raw.close()

    def _insert(
        self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
    ) -> None:
        target = Base.metadata.tables[table]
        batch: list[dict[str, Any]] = []
        with self.engine.begin() as connection:
            for row in rows:
                batch.append(dict(zip(columns, row, strict=True)))
                if len(batch) >= 5_000:
                    connection.execute(insert(target), batch)
                    batch = []
            if batch:
                connection.execute(insert(target), batch)


def seed(engine: Engine, sizes: Sizes, now: datetime, *, progress: bool = False) -> Seeded:
    """One workspace of `sizes` in the database behind `engine` (already migrated)."""
    show = Progress(progress)
    slug = f"{SLUG}-{random.randrange(16**6):06x}"
    teammates = _people(engine, slug, sizes.teammates)
    workspace_id = teammates[0]
    people = teammates[1]
    team_ids = teammates[2]
    first = {t: _first_id(engine, t) for t in ("contacts", "identities", "conversations")}
    first |= {t: _first_id(engine, t) for t in ("conversation_tags", "messages")}
    sink = Sink(engine, show)

    def contact_id(index: int) -> int:
        return first["contacts"] + index

    def contacts() -> Iterator[tuple[Any, ...]]:
        rng = random.Random(1)
        for n in range(sizes.contacts):
            full = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            named = rng.random() < 0.4  # staff typed a name for some
            profile = full if rng.random() < 0.9 else None
            yield (
                contact_id(n),
                workspace_id,
                full if named or profile is None else None,
                profile,
                rng.choice(("sw", "en", "en", None)),
                {},
                now - timedelta(days=800) + timedelta(seconds=n * 600 % (790 * 86_400)),
            )

    sink.write(
        "contacts",
        ("id", "workspace_id", "name", "profile_name", "language", "fields", "created_at"),
        sizes.contacts,
        contacts(),
    )

    def identities() -> Iterator[tuple[Any, ...]]:
        next_id = first["identities"]
        since = now - timedelta(days=800)
        for n in range(sizes.contacts):
            if n % 20 == 7:  # a changed number: the old one stays as history
                yield (
                    next_id,
                    workspace_id,
                    contact_id(n),
                    "whatsapp",
                    old_phone(n),
                    since - timedelta(days=400),
                    since,
                    False,
                )
                next_id += 1
            yield (next_id, workspace_id, contact_id(n), "whatsapp", phone(n), since, None, True)
            next_id += 1

    changed = len(range(7, sizes.contacts, 20))
    sink.write(
        "identities",
        (
            "id",
            "workspace_id",
            "contact_id",
            "channel",
            "address",
            "valid_from",
            "valid_to",
            "is_current",
        ),
        sizes.contacts + changed,
        identities(),
    )

    threads = lambda: (thread(i, sizes, len(people), now) for i in range(sizes.conversations))  # noqa: E731

    def conversations() -> Iterator[tuple[Any, ...]]:
        for t in threads():
            yield (
                first["conversations"] + t.index,
                workspace_id,
                contact_id(t.contact_index),
                BUSINESS_NUMBER,
                t.status,
                people[t.owner][0] if t.owner is not None else None,
                team_ids[t.team] if t.team is not None else None,
                t.priority,
                "sales" if t.stage else None,
                t.stage,
                t.waiting_on,
                t.snoozed_until,
                t.last_customer_at,
                t.opened_at,
                t.resolved_at,
                {},
            )

    sink.write(
        "conversations",
        (
            "id",
            "workspace_id",
            "contact_id",
            "business_number",
            "status",
            "owner_id",
            "team_id",
            "priority",
            "pipeline",
            "stage",
            "waiting_on",
            "snoozed_until",
            "last_customer_message_at",
            "opened_at",
            "resolved_at",
            "fields",
        ),
        sizes.conversations,
        conversations(),
    )

    def tags() -> Iterator[tuple[Any, ...]]:
        next_id = first["conversation_tags"]
        for t in threads():
            for name in t.tags:
                yield (next_id, workspace_id, first["conversations"] + t.index, name, t.opened_at)
                next_id += 1

    sink.write(
        "conversation_tags",
        ("id", "workspace_id", "conversation_id", "name", "created_at"),
        sizes.conversations * 2 // 5,
        tags(),
    )

    def messages() -> Iterator[tuple[Any, ...]]:
        next_id = first["messages"]
        each, extra = divmod(sizes.messages, sizes.conversations)
        for t in threads():
            rng = random.Random(t.index * 31 + 5)
            count = each + (1 if t.index < extra else 0)
            span = (t.last_customer_at - t.opened_at) / max(count, 1)
            writer = people[t.owner if t.owner is not None else 0][0]
            for k in range(count):
                # The customer opens and (for open threads) has the last word.
                inbound = k % 2 == 0 or (k == count - 1 and t.status != "resolved")
                at = t.opened_at + span * (k + 1)
                yield (
                    next_id,
                    workspace_id,
                    first["conversations"] + t.index,
                    "inbound" if inbound else "outbound",
                    "text",
                    body(rng, inbound),
                    f"wamid.bench.{workspace_id}.{next_id}",
                    "contact" if inbound else "teammate",
                    contact_id(t.contact_index) if inbound else None,
                    None if inbound else writer,
                    None if inbound else rng.choice(("read", "read", "delivered", "sent")),
                    at,
                    at,
                )
                next_id += 1

    sink.write(
        "messages",
        (
            "id",
            "workspace_id",
            "conversation_id",
            "direction",
            "type",
            "body",
            "provider_message_id",
            "author_kind",
            "author_contact_id",
            "author_teammate_id",
            "delivery_state",
            "provider_timestamp",
            "created_at",
        ),
        sizes.messages,
        messages(),
    )
    if engine.dialect.name == "postgresql":
        show.note("ANALYZE (the planner needs statistics of the new rows)")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    open_owners = {
        people[t.owner][0]
        for t in (
            thread(i, sizes, len(people), now)
            for i in range(sizes.conversations - sizes.open_conversations, sizes.conversations)
        )
        if t.owner is not None
    }
    return Seeded(
        workspace_id=workspace_id,
        slug=slug,
        teammates=people,
        owners=sorted(open_owners),
        first_ids=first,
        sizes=sizes,
    )


def _people(
    engine: Engine, slug: str, count: int
) -> tuple[int, list[tuple[int, str, Role, int]], list[int]]:
    """The workspace, its teams and teammates, made through the ORM like the app does."""
    with system_session(engine) as session:
        workspace = Workspace(slug=slug, name="Duka Bora (benchmark)", timezone="Africa/Nairobi")
        session.add(workspace)
        session.commit()
        workspace_id = workspace.id
    password_hash = hash_password(PASSWORD)
    with workspace_session(engine, workspace_id) as session:
        teams = [Team(handle=handle, name=name) for handle, name in TEAMS]
        session.add_all(teams)
        session.flush()
        people = []
        for n in range(count):
            role = Role.ADMIN if n == 0 else Role.MANAGER if n < 5 else Role.AGENT
            first_name = FIRST[n % len(FIRST)]
            teammate = Teammate(
                handle=f"t{n:02d}",
                name=f"{first_name} {LAST[n % len(LAST)][0]}.",
                email=f"t{n:02d}@{slug}.test",
                role=role.label,
                password_hash=password_hash,
            )
            session.add(teammate)
            session.flush()
            team = teams[n % len(teams)]
            session.add(TeamMembership(team_id=team.id, teammate_id=teammate.id))
            people.append((teammate.id, teammate.handle, role, team.id))
        session.commit()
        return workspace_id, people, [team.id for team in teams]


# --- measuring --------------------------------------------------------------------------


def principal_of(seeded: Seeded, teammate_id: int) -> Principal:
    for id_, handle, role, team_id in seeded.teammates:
        if id_ == teammate_id:
            return Principal(
                workspace_id=seeded.workspace_id,
                role=role,
                name=handle,
                teammate_id=id_,
                team_ids=frozenset({team_id}),
            )
    raise KeyError(teammate_id)


@dataclass(frozen=True)
class Probe:
    """A conversation to open and the words a person would search to find it."""

    conversation_id: int
    name: str
    digits: str
    words: str


def probes(
    engine: Engine, seeded: Seeded, resolved: bool, count: int, rng: random.Random
) -> list[Probe]:
    """Search terms taken from real seeded rows, so each search has something to find."""
    with workspace_session(engine, seeded.workspace_id) as session:
        status = (
            Conversation.status == "resolved" if resolved else Conversation.status != "resolved"
        )
        ids = list(session.scalars(select(Conversation.id).where(status)))
        found = []
        for conversation_id in rng.sample(ids, min(count, len(ids))):
            conversation = session.get(Conversation, conversation_id)
            assert conversation is not None
            contact = session.get(Contact, conversation.contact_id)
            assert contact is not None
            address = session.scalar(
                select(Identity.address).where(
                    Identity.contact_id == contact.id, Identity.is_current.is_(True)
                )
            )
            said = session.scalar(
                select(Message.body)
                .where(Message.conversation_id == conversation_id, Message.direction == "inbound")
                .order_by(Message.id)
                .limit(1)
            )
            words = re.findall(r"[^\W\d_]{4,}", said or "")
            found.append(
                Probe(
                    conversation_id=conversation_id,
                    name=(contact.name or contact.profile_name or "").split()[0].lower(),
                    digits=(address or "")[-7:],
                    # The last word cut short: people search while typing.
                    words=" ".join([*words[:1], words[-1][:4]] if words else ["habari"]),
                )
            )
        return found


def _timed(figure: Figure, call: Callable[..., int], *args: Any) -> None:
    started = time.perf_counter()
    rows = call(*args)
    figure.times_ms.append((time.perf_counter() - started) * 1000)
    figure.rows.append(rows)


VIEWS = tuple(Queue)


def measure_services(
    engine: Engine, seeded: Seeded, runs: int, now: datetime, configs: ConfigDirectory
) -> list[Figure]:
    """Times the engine functions the inbox and conversation handlers call."""
    rng = random.Random(7)
    config = configs.config(seeded.slug)
    queue_figures = {
        q: Figure(f"queue {q.value} + counts", "service", QUEUE_TARGET_MS) for q in VIEWS
    }
    page = Figure("conversation page (open)", "service", QUEUE_TARGET_MS)
    old = Figure("conversation page (resolved)", "service", QUEUE_TARGET_MS)
    searches = {
        (scope, kind): Figure(f"search {kind} in {scope.value}", "service", SEARCH_TARGET_MS)
        for scope in (Queue.ALL, Queue.RESOLVED)
        for kind in ("name", "number", "words")
    }
    open_probes = probes(engine, seeded, False, 30, rng)
    resolved_probes = probes(engine, seeded, True, 30, rng)

    def queue_view(principal: Principal, queue: Queue, filters: QueueFilters | None = None) -> int:
        with workspace_session(engine, seeded.workspace_id) as session:
            listing = list_queue(session, principal, queue, now, filters)
            if filters is None:
                counts = queue_counts(session, principal, now)
                # A view counts as having shown rows only if its count agrees.
                return len(listing.rows) if counts[queue] else 0
            return len(listing.rows)

    def open_page(principal: Principal, conversation_id: int) -> int:
        with workspace_session(engine, seeded.workspace_id) as session:
            view = conversation_view(
                session,
                principal,
                conversation_id,
                templates=config.templates if config else (),
                pipelines=config.pipelines if config else (),
                now=now,
            )
            return len(view.timeline)

    manager = principal_of(seeded, seeded.teammates[1][0])
    for run in range(runs):
        agent = principal_of(seeded, rng.choice(seeded.owners))
        for queue in VIEWS:
            _timed(queue_figures[queue], queue_view, agent, queue)
        probe = open_probes[run % len(open_probes)]
        _timed(page, open_page, manager, probe.conversation_id)
        past = resolved_probes[run % len(resolved_probes)]
        _timed(old, open_page, manager, past.conversation_id)
        for (scope, kind), figure in searches.items():
            source = open_probes if scope == Queue.ALL else resolved_probes
            term = getattr(source[run % len(source)], kind if kind != "number" else "digits")
            _timed(figure, queue_view, agent, scope, QueueFilters(search=term))
    return [*queue_figures.values(), page, old, *searches.values()]


def measure_pages(
    database_url: str, seeded: Seeded, runs: int, now: datetime, config_dir: Path, var_dir: Path
) -> list[Figure]:
    """Times real GET requests to the app through TestClient, signed in as a teammate
    who owns open conversations."""
    from litestar.testing import TestClient

    from engine.composition import build_runtime
    from engine.core.clock import FrozenClock
    from engine.settings import Settings
    from ui.app import create_app

    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(var_dir),
            "KAZI_CONFIG_DIR": str(config_dir),
            "KAZI_QUEUE_NAME": f"bench-{seeded.slug}",
        }
    )
    runtime = build_runtime(settings, clock=FrozenClock(now))
    rng = random.Random(11)
    engine = runtime.db
    owner = principal_of(seeded, seeded.owners[0])
    open_probes = probes(engine, seeded, False, 30, rng)
    resolved_probes = probes(engine, seeded, True, 30, rng)
    figures = {q: Figure(f"GET /inbox?queue={q.value}", "page", QUEUE_TARGET_MS) for q in VIEWS}
    page = Figure("GET /inbox/c/<open>", "page", QUEUE_TARGET_MS)
    old = Figure("GET /inbox/c/<resolved>", "page", QUEUE_TARGET_MS)
    search = Figure("GET /inbox?queue=all&q=<words>", "page", SEARCH_TARGET_MS)
    with TestClient(create_app(runtime)) as client:
        signed_in = _sign_in(client, seeded.slug, owner.name)
        if not signed_in:
            raise RuntimeError("could not sign in to the benchmark workspace")

        def get(path: str) -> int:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code}")
            return response.text.count("/inbox/c/")

        for run in range(runs):
            for queue in VIEWS:
                _timed(figures[queue], get, f"/inbox?queue={queue.value}")
            probe = open_probes[run % len(open_probes)]
            _timed(page, get, f"/inbox/c/{probe.conversation_id}")
            past = resolved_probes[run % len(resolved_probes)]
            _timed(old, get, f"/inbox/c/{past.conversation_id}")
            _timed(search, get, "/inbox?" + urlencode({"queue": "all", "q": probe.words}))
        probed = [p.conversation_id for p in open_probes]
        others = _other_pages(client, engine, seeded, runs, probed)
    engine.dispose()
    return [*figures.values(), page, old, search, *others]


def _other_pages(
    agent: Any, engine: Engine, seeded: Seeded, runs: int, conversations: list[int]
) -> list[Figure]:
    """The rest of the pages a team uses all day (issue 5: every page under 100 ms):
    the customer record and notifications as the agent, the manager's view, the
    failures page and the team page as the workspace's admin."""
    from litestar.testing import TestClient

    with workspace_session(engine, seeded.workspace_id) as s:
        contacts = [
            s.scalar(select(Conversation.contact_id).where(Conversation.id == c))
            for c in conversations
        ]
    agent_pages = {
        "GET /inbox/contacts/<id>": lambda run: f"/inbox/contacts/{contacts[run % len(contacts)]}",
        "GET /notifications": lambda run: "/notifications",
    }
    admin_pages = {
        "GET /manager": lambda run: "/manager",
        "GET /failures": lambda run: "/failures",
        "GET /account/team": lambda run: "/account/team",
    }
    figures = {
        name: Figure(name, "page", OTHER_PAGE_TARGET_MS) for name in [*agent_pages, *admin_pages]
    }
    with TestClient(agent.app) as admin:
        if not _sign_in(admin, seeded.slug, seeded.teammates[0][1]):
            raise RuntimeError("could not sign in as the benchmark's admin")
        for run in range(runs):
            for client, pages in ((agent, agent_pages), (admin, admin_pages)):
                for name, path in pages.items():
                    _timed(figures[name], _get_ok, client, path(run))
    return list(figures.values())


def _get_ok(client: Any, path: str) -> int:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code}")
    return 1


def _sign_in(client: Any, slug: str, handle: str) -> bool:
    form = client.get("/login")
    match = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    token = client.cookies.get("kazi_csrf") or (match.group(1) if match else "")
    response = client.post(
        "/login",
        data={"workspace": slug, "login": handle, "password": PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code in (302, 303)


@contextmanager
def config_folder(slug: str) -> Iterator[Path]:
    """A config directory serving the retail sample under the benchmark's slug."""
    with tempfile.TemporaryDirectory(prefix="kazi-bench-") as folder:
        configs = Path(folder) / "configs"
        configs.mkdir()
        (configs / slug).symlink_to(ROOT / "configs" / "retail")
        yield Path(folder)


def table(figures: list[Figure]) -> str:
    lines = [
        f"{'measure':<40} {'kind':<8} {'p50 ms':>8} {'p95 ms':>8} {'target':>8} {'rows':>6}  ok",
        "-" * 86,
    ]
    for f in figures:
        ok = "yes" if f.p95 < f.target_ms else "NO"
        lines.append(
            f"{f.name:<40} {f.kind:<8} {f.p50:>8.1f} {f.p95:>8.1f} {f.target_ms:>8.0f} "
            f"{max(f.rows, default=0):>6}  {ok}"
        )
    return "\n".join(lines)


# --- command line -----------------------------------------------------------------------


def bench_database_url(admin_url: str, name: str, fresh: bool) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if fresh and exists:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            if fresh or not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def saved_seed(engine: Engine) -> Seeded:
    """The seed a previous `--keep` run left (the newest benchmark workspace)."""
    with system_session(engine) as session:
        workspace = session.scalars(
            select(Workspace).where(Workspace.slug.like(f"{SLUG}-%")).order_by(Workspace.id.desc())
        ).first()
        if workspace is None:
            raise SystemExit("--reuse: no seeded benchmark workspace in this database")
        workspace_id = workspace.id
        slug = workspace.slug
    with workspace_session(engine, workspace_id) as session:
        memberships = {m.teammate_id: m.team_id for m in session.scalars(select(TeamMembership))}
        people = [
            (t.id, t.handle, Role.parse(t.role), memberships[t.id])
            for t in session.scalars(select(Teammate).order_by(Teammate.id))
        ]
        owners = sorted(
            i
            for i in session.scalars(
                select(Conversation.owner_id)
                .where(Conversation.status != "resolved", Conversation.owner_id.is_not(None))
                .distinct()
            )
            if i is not None
        )
        counted = {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (
                ("contacts", Contact),
                ("conversations", Conversation),
                ("messages", Message),
            )
        }
    sizes = Sizes(counted["contacts"], counted["conversations"], counted["messages"], len(people))
    return Seeded(workspace_id, slug, people, owners, {}, sizes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = Sizes()
    parser.add_argument("--contacts", type=int, default=defaults.contacts)
    parser.add_argument("--conversations", type=int, default=defaults.conversations)
    parser.add_argument("--messages", type=int, default=defaults.messages)
    parser.add_argument("--teammates", type=int, default=defaults.teammates)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--admin-url", default=ADMIN_URL, help="a PostgreSQL server to create the database on"
    )
    parser.add_argument("--database", default=BENCH_DATABASE, help="name of the database to create")
    parser.add_argument(
        "--database-url", help="use this (empty or --reuse) database instead of creating one"
    )
    parser.add_argument("--keep", action="store_true", help="leave the seeded database for --reuse")
    parser.add_argument("--reuse", action="store_true", help="measure a database a --keep run left")
    parser.add_argument("--no-pages", action="store_true", help="service times only")
    args = parser.parse_args(argv)
    sizes = Sizes(args.contacts, args.conversations, args.messages, args.teammates)
    if sizes.conversations < 1 or sizes.contacts < 1 or sizes.teammates < 1:
        parser.error("sizes must be at least 1")
    created = args.database_url is None
    url = args.database_url or bench_database_url(
        args.admin_url, args.database, fresh=not args.reuse
    )
    # Times are whole minutes from a fixed "now", so --reuse finds the same picture.
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    print(f"database: {make_url(url).render_as_string(hide_password=True)}", file=sys.stderr)
    started = time.perf_counter()
    migrate(url)
    print(f"migrated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    engine = make_engine(url)
    try:
        if args.reuse:
            seeded = saved_seed(engine)
        else:
            started = time.perf_counter()
            print(f"seeding {sizes}", file=sys.stderr)
            seeded = seed(engine, sizes, now, progress=True)
            print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        with config_folder(seeded.slug) as folder:
            configs = ConfigDirectory(folder / "configs")
            figures = measure_services(engine, seeded, args.runs, now, configs)
            if not args.no_pages:
                figures += measure_pages(
                    url, seeded, args.runs, now, folder / "configs", folder / "var"
                )
    finally:
        engine.dispose()
        if created and not args.keep and not args.reuse:
            drop_database(args.admin_url, args.database)
    print(
        f"\nInbox benchmark: {seeded.sizes.contacts:,} contacts, "
        f"{seeded.sizes.conversations:,} conversations, {seeded.sizes.messages:,} messages, "
        f"{len(seeded.teammates)} teammates; {args.runs} runs each.\n"
        "service = the engine functions the handler calls, in one workspace session;\n"
        "page = a GET through litestar.testing.TestClient, signed in (whole handler, "
        "header and template).\n"
    )
    print(table(figures))


if __name__ == "__main__":
    main()

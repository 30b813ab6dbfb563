"""A contact list in from a CSV file: read, map columns, check every row, then write.

Three steps, so nothing reaches the contacts before a person saw the preview:
`read_contact_list` (the file's columns and rows), `plan_import` (each row checked
against the mapping and the workspace's contact fields: a bad number, a number
given twice in the file, an unknown field or a wrong value is an error on its line),
and `apply_import`, which writes the plan in bulk.

A row whose number (in any of WhatsApp's forms of it, engine.contacts.numbers)
already belongs to a contact is merged into that contact, filling what is empty,
adding tags and recording the opt-in; it never doubles the person. Running the
same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from psycopg.types.json import Jsonb
from sqlalchemy import ColumnElement, Table, any_, bindparam, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.contacts.consent import ConsentSource
from engine.contacts.numbers import TypedNumber, typed_number
from engine.contacts.people import split_tags
from engine.core.config import CustomField, FieldType
from engine.inbox.contacts import LANGUAGE, MAX_FIELD_VALUE, MAX_NAME
from engine.inbox.errors import InvalidInput
from engine.models import (
    Base,
    Channel,
    Company,
    ConsentEvent,
    ConsentState,
    Contact,
    ContactConsent,
    ContactTag,
    Identity,
)

MAX_ROWS = 200_000
MAX_BYTES = 50 * 1024 * 1024
# Rows per IN (...) lookup: under SQLite's oldest bound-parameter limit.
CHUNK = 900
FIELD = "field:"

T = TypeVar("T")


class Target(StrEnum):
    """What a column of the file holds."""

    NAME = "name"
    PHONE = "phone"
    COMPANY = "company"
    LANGUAGE = "language"
    TAGS = "tags"
    OPT_IN = "opt_in"  # yes / no: did the person agree to hear from the business
    OPT_IN_AT = "opt_in_at"  # when they agreed
    OPT_IN_SOURCE = "opt_in_source"  # how they agreed ("signed up at the counter")
    IGNORE = "ignore"


SINGLE_TARGETS = tuple(t for t in Target if t not in (Target.IGNORE, Target.TAGS))

_GUESSES: dict[Target, tuple[str, ...]] = {
    Target.NAME: ("name", "full name", "fullname", "customer", "customer name", "jina"),
    Target.PHONE: (
        "phone",
        "phone number",
        "number",
        "mobile",
        "msisdn",
        "whatsapp",
        "whatsapp number",
        "tel",
        "telephone",
        "simu",
        "namba",
    ),
    Target.COMPANY: ("company", "business", "organisation", "organization", "kampuni"),
    Target.LANGUAGE: ("language", "lang", "lugha"),
    Target.TAGS: ("tags", "tag", "labels", "groups", "group"),
    Target.OPT_IN: ("opt in", "opt-in", "optin", "opted in", "consent", "marketing"),
    Target.OPT_IN_AT: ("opt in at", "opt-in date", "opt in date", "opted in at", "consent date"),
    Target.OPT_IN_SOURCE: ("opt in source", "opt-in source", "consent source", "how opted in"),
}

_YES = {"yes", "y", "true", "1", "x", "ndiyo", "opted in", "opted_in", "opt in"}
_NO = {"no", "n", "false", "0", "hapana", "", "-"}


@dataclass(frozen=True)
class ContactList:
    """A file's header and its rows; a row's line in the file is its index + 2."""

    headers: tuple[str, ...]
    records: tuple[tuple[str, ...], ...]


def read_contact_list(content: str) -> ContactList:
    """The columns and rows of a CSV (comma, semicolon or tab separated; a header row
    first), or InvalidInput saying what is wrong with the file as a whole."""
    if len(content) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it")
    text = content.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as wrong:
        raise InvalidInput(f"this is not a CSV file we can read: {wrong}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise InvalidInput("the file is empty: it needs a header row and a row per contact")
    headers = tuple(cell.strip() for cell in rows[0])
    if any(not h for h in headers):
        raise InvalidInput("every column needs a name in the header row (the first row)")
    repeated = sorted({h for h in headers if headers.count(h) > 1})
    if repeated:
        raise InvalidInput(f"the header names {', '.join(repeated)} more than once")
    if len(rows) - 1 > MAX_ROWS:
        raise InvalidInput(f"at most {MAX_ROWS} contacts a file: split it")
    width = len(headers)
    records = tuple(
        tuple(cell.strip() for cell in (row + [""] * width)[:width]) for row in rows[1:]
    )
    return ContactList(headers, records)


def _plain(header: str) -> str:
    return re.sub(r"[\s_]+", " ", header.strip().lower())


def field_key(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_") or "field"


def guess_mapping(headers: Sequence[str], fields: Iterable[CustomField]) -> dict[str, str]:
    """A first mapping to show: known column names, the workspace's contact fields by name
    or label, and every other column as a field of its own name (so an unknown one is
    pointed out, not silently dropped)."""
    by_name = {f.name: f for f in fields}
    by_label = {_plain(f.label): f for f in by_name.values() if f.label}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        plain = _plain(header)
        target = next(
            (t.value for t, names in _GUESSES.items() if plain in names and t not in taken),
            None,
        )
        if target is None:
            known = by_name.get(field_key(header)) or by_label.get(plain)
            target = FIELD + (known.name if known else field_key(header))
        if target in SINGLE_TARGETS:
            taken.add(Target(target))
        mapping[header] = target
    return mapping


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True)
class ImportRow:
    line: int
    number: TypedNumber
    name: str | None = None
    company: str | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    opt_in: bool = False
    opt_in_at: datetime | None = None
    opt_in_source: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportPlan:
    """Checked rows ready to write, the errors of the others, and `problems` with the
    mapping itself, which stop the import until the mapping is fixed."""

    total: int
    rows: tuple[ImportRow, ...]
    errors: tuple[RowError, ...]
    problems: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return not self.problems and bool(self.rows)


def mapping_problems(
    headers: Sequence[str], mapping: Mapping[str, str], fields: Iterable[CustomField]
) -> list[str]:
    declared = {f.name for f in fields}
    problems: list[str] = []
    seen: dict[str, str] = {}
    for header in headers:
        target = mapping.get(header, Target.IGNORE)
        if target.startswith(FIELD):
            key = target[len(FIELD) :]
            if key not in declared:
                known = ", ".join(sorted(declared)) or "none"
                problems.append(
                    f"column {header!r}: unknown field {key!r} (contact fields in "
                    f"workspace.yaml: {known}); map it to one of them or ignore it"
                )
        elif target not in {t.value for t in Target}:
            problems.append(f"column {header!r}: {target!r} is not something a column can hold")
        if target in SINGLE_TARGETS or target.startswith(FIELD):
            if target in seen:
                problems.append(
                    f"columns {seen[target]!r} and {header!r} both map to {target}; "
                    "ignore one of them"
                )
            seen.setdefault(target, header)
    if Target.PHONE not in seen:
        problems.append("map one column to the phone number: contacts are matched by it")
    return problems


def plan_import(
    contact_list: ContactList,
    mapping: Mapping[str, str],
    *,
    fields: Sequence[CustomField],
    default_region: str | None,
    now: datetime,
) -> ImportPlan:
    """Every row checked against the mapping; nothing is read from or written to the database."""
    problems = mapping_problems(contact_list.headers, mapping, fields)
    if problems:
        return ImportPlan(len(contact_list.records), (), (), tuple(problems))
    declared = {f.name: f for f in fields}
    columns = [
        (index, mapping.get(header, Target.IGNORE))
        for index, header in enumerate(contact_list.headers)
    ]
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for position, record in enumerate(contact_list.records):
        line = position + 2
        try:
            row = _checked_row(line, record, columns, declared, default_region, now)
        except InvalidInput as wrong:
            errors.append(RowError(line, str(wrong)))
            continue
        earlier = next((first_line[f] for f in row.number.forms if f in first_line), None)
        if earlier is not None:
            errors.append(
                RowError(line, f"{row.number.address} is the same number as line {earlier}")
            )
            continue
        for form in row.number.forms:
            first_line[form] = line
        rows.append(row)
    return ImportPlan(len(contact_list.records), tuple(rows), tuple(errors), ())


def _checked_row(
    line: int,
    record: tuple[str, ...],
    columns: list[tuple[int, str]],
    declared: Mapping[str, CustomField],
    default_region: str | None,
    now: datetime,
) -> ImportRow:
    values: dict[str, Any] = {"fields": {}, "tags": ()}
    raw_number = ""
    for index, target in columns:
        cell = record[index]
        if target == Target.PHONE:
            raw_number = cell
        elif target == Target.NAME:
            if len(cell) > MAX_NAME:
                raise InvalidInput(f"the name is longer than {MAX_NAME} characters")
            values["name"] = cell or None
        elif target == Target.COMPANY:
            if len(cell) > MAX_NAME:
                raise InvalidInput(f"the company is longer than {MAX_NAME} characters")
            values["company"] = cell or None
        elif target == Target.LANGUAGE:
            language = cell[:1].lower() + cell[1:]
            if cell and not (LANGUAGE.match(language) and len(language) <= 16):
                raise InvalidInput(f"language {cell!r} is not a code like sw or en-KE")
            values["language"] = language or None
        elif target == Target.TAGS:
            values["tags"] = tuple(dict.fromkeys((*values["tags"], *split_tags(cell))))
        elif target == Target.OPT_IN:
            answer = cell.lower()
            if answer not in _YES | _NO:
                raise InvalidInput(f"opt-in {cell!r}: write yes or no")
            values["opt_in"] = answer in _YES
        elif target == Target.OPT_IN_SOURCE:
            values["opt_in_source"] = cell[:300] or None
        elif target == Target.OPT_IN_AT:
            values["opt_in_at"] = _instant(cell, now) if cell else None
        elif target.startswith(FIELD) and cell:
            spec = declared[target[len(FIELD) :]]
            values["fields"][spec.name] = _field_value(spec, cell)
    if not raw_number:
        raise InvalidInput("no phone number")
    try:
        number = typed_number(raw_number, default_region)
    except ValueError as wrong:
        raise InvalidInput(f"bad number: {wrong}") from None
    return ImportRow(line=line, number=number, **values)


def _instant(text: str, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"opt-in time {text!r}: write it like 2025-03-01 or 2025-03-01 14:30"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now:
        raise InvalidInput(f"opt-in time {text!r} is in the future")
    return moment


def _field_value(spec: CustomField, text: str) -> Any:
    if len(text) > MAX_FIELD_VALUE:
        raise InvalidInput(f"{spec.name}: at most {MAX_FIELD_VALUE} characters")
    match spec.type:
        case FieldType.CHOICE:
            choice = next((c for c in spec.choices if c.lower() == text.lower()), None)
            if choice is None:
                raise InvalidInput(f"{spec.name}: {text!r} is not one of {', '.join(spec.choices)}")
            return choice
        case FieldType.DATE:
            try:
                return date.fromisoformat(text).isoformat()
            except ValueError:
                raise InvalidInput(f"{spec.name}: {text!r} is not a date like 2025-03-01") from None
        case FieldType.NUMBER | FieldType.MONEY:
            try:
                return str(Decimal(text.replace(",", "")))
            except InvalidOperation:
                raise InvalidInput(f"{spec.name}: {text!r} is not a number") from None
        case FieldType.BOOL:
            if text.lower() not in _YES | _NO:
                raise InvalidInput(f"{spec.name}: write yes or no")
            return text.lower() in _YES
        case _:
            return text


# --- writing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    tags_added: int
    opted_in: int
    # Rows saying "opted in" for a person who opted out: their opt-out stands.
    kept_opted_out: int
    errors: tuple[RowError, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "tags_added": self.tags_added,
            "opted_in": self.opted_in,
            "kept_opted_out": self.kept_opted_out,
            "errors": [{"line": e.line, "message": e.message} for e in self.errors[:1000]],
            "error_count": len(self.errors),
        }


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _lookups(session: Session) -> int:
    """Values per lookup. SQLite's oldest builds bind at most 999 parameters; PostgreSQL
    takes the whole list as one array, and one large lookup beats many small ones there,
    above all on a table whose statistics are not gathered yet (a fresh import)."""
    return 200_000 if _postgres(session) else CHUNK


def _among(
    session: Session, column: InstrumentedAttribute[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter however many values
    (an IN list of 20,000 binds took seconds to build and plan)."""
    if _postgres(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing_contacts(session: Session, rows: Sequence[ImportRow]) -> dict[int, int]:
    """{row line: contact id} for rows whose number (any form) a contact holds now."""
    forms = sorted({form for row in rows for form in row.number.forms})
    holder: dict[str, int] = {}
    for chunk in _chunks(forms, _lookups(session)):
        for address, contact_id in session.execute(
            # `is_current` bare, as the partial unique index is written, so PostgreSQL
            # uses that index (with `IS true` it did not, and scanned).
            select(Identity.address, Identity.contact_id).where(
                Identity.channel == Channel.WHATSAPP,
                Identity.is_current,
                _among(session, Identity.address, chunk),
            )
        ):
            holder[address] = contact_id
    found: dict[int, int] = {}
    for row in rows:
        contact_id = next((holder[f] for f in sorted(row.number.forms) if f in holder), None)
        if contact_id is not None:
            found[row.line] = contact_id
    return found


def _companies(session: Session, workspace_id: int, names: set[str]) -> dict[str, int]:
    """{lower-case name: company id}, creating the companies that do not exist yet."""
    ids: dict[str, int] = {}
    wanted = sorted({n.lower(): n for n in names}.items())
    for chunk in _chunks(wanted, _lookups(session)):
        for name, company_id in session.execute(
            select(func.lower(Company.name), Company.id)
            .where(func.lower(Company.name).in_([lower for lower, _ in chunk]))
            .order_by(Company.id.desc())
        ):
            ids[name] = company_id
    missing = [(lower, name) for lower, name in wanted if lower not in ids]
    if missing:
        created = session.scalars(
            insert(Company).returning(Company.id, sort_by_parameter_order=True),
            [{"workspace_id": workspace_id, "name": name, "fields": {}} for _, name in missing],
        ).all()
        ids.update(zip((lower for lower, _ in missing), created, strict=True))
    return ids


def apply_import(
    session: Session,
    workspace_id: int,
    plan: ImportPlan,
    *,
    source: str,
    now: datetime,
    teammate_id: int | None = None,
) -> ImportResult:
    """Write the plan's rows in bulk: new contacts with their number, tags and opt-in;
    rows matching a contact fill it in. `source` says where the list came from (the
    file's name), recorded with each opt-in. The caller commits; InvalidInput if the
    mapping still has problems."""
    if plan.problems:
        raise InvalidInput("; ".join(plan.problems))
    rows = plan.rows
    matched = existing_contacts(session, rows)
    companies = _companies(session, workspace_id, {r.company for r in rows if r.company})
    new_rows = [row for row in rows if row.line not in matched]
    contact_of: dict[int, int] = dict(matched)
    ids = _new_contact_ids(session, len(new_rows))
    contact_of.update(zip((row.line for row in new_rows), ids, strict=True))
    for chunk in _chunks(new_rows, 5000):
        _insert_rows(
            session,
            Contact,
            [
                {
                    "id": contact_of[row.line],
                    "workspace_id": workspace_id,
                    "name": row.name,
                    "profile_name": None,
                    "language": row.language,
                    "company_id": companies[row.company.lower()] if row.company else None,
                    "fields": row.fields,
                }
                for row in chunk
            ],
        )
        _insert_rows(
            session,
            Identity,
            [
                {
                    "workspace_id": workspace_id,
                    "contact_id": contact_of[row.line],
                    "channel": Channel.WHATSAPP.value,
                    "address": row.number.address,
                    "valid_from": now,
                    "valid_to": None,
                    "is_current": True,
                }
                for row in chunk
            ],
        )
    updated = _fill_in(session, [r for r in rows if r.line in matched], matched, companies)
    tags_added = _add_tags(session, workspace_id, rows, contact_of)
    opted_in, kept_out = _opt_in(session, workspace_id, rows, contact_of, source, now, teammate_id)
    session.flush()
    return ImportResult(
        created=len(new_rows),
        updated=updated,
        unchanged=len(matched) - updated,
        tags_added=tags_added,
        opted_in=opted_in,
        kept_opted_out=kept_out,
        errors=plan.errors,
    )


def _table(model: type[Base]) -> Table:
    """The model's table, for Core bulk inserts (much faster than the ORM's for big lists)."""
    return Base.metadata.tables[model.__tablename__]


def _insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys, each naming its workspace) in bulk, in the
    session's transaction: COPY on PostgreSQL, several times faster than INSERTs there
    for a 50,000-row list; one executemany on SQLite."""
    if not rows:
        return
    if not _postgres(session):
        session.execute(insert(_table(model)), rows)
        return
    columns = list(rows[0])
    raw = session.connection().connection.driver_connection
    assert raw is not None
    statement = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([_copied(row[column]) for column in columns])


def _copied(value: Any) -> Any:
    """A value as COPY takes it: JSON documents marked as such, enum members as their value."""
    if isinstance(value, dict):
        return Jsonb(value)
    return value.value if isinstance(value, StrEnum) else value


def _new_contact_ids(session: Session, count: int) -> list[int]:
    """Ids for `count` new rows, taken before inserting them so each row's number, tags and
    consent can name its contact in the same bulk insert. (RETURNING in row order makes
    SQLAlchemy insert row by row on SQLite, far too slow for a 50,000-row list.)"""
    if count == 0:
        return []
    table = Contact.__tablename__
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text(
                    f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": count},
            )
        )
    # SQLite: Kazi's transactions begin IMMEDIATE, so no other writer can take these ids
    # between this read and the insert. Ids are shared by every workspace: the highest is
    # read across all of them, in text SQL, which the workspace scoping leaves alone.
    highest = session.scalar(text(f"SELECT max(id) FROM {table}"))
    start = (highest or 0) + 1
    return list(range(start, start + count))


def _fill_in(
    session: Session,
    rows: Sequence[ImportRow],
    matched: Mapping[int, int],
    companies: Mapping[str, int],
) -> int:
    """Matched contacts take the file's values where they have none; what a teammate or
    the customer already gave is kept. Returns how many contacts changed."""
    contacts: dict[int, Contact] = {}
    ids = sorted(set(matched.values()))
    for chunk in _chunks(ids, _lookups(session)):
        contacts.update(
            (c.id, c)
            for c in session.scalars(select(Contact).where(_among(session, Contact.id, chunk)))
        )
    changed: set[int] = set()
    for row in rows:
        contact = contacts.get(matched[row.line])
        if contact is None or contact.erased_at is not None:
            continue
        if row.name and not contact.name:
            contact.name = row.name
            changed.add(contact.id)
        if row.language and not contact.language:
            contact.language = row.language
            changed.add(contact.id)
        if row.company and contact.company_id is None:
            contact.company_id = companies[row.company.lower()]
            changed.add(contact.id)
        current = dict(contact.fields or {})
        missing = {k: v for k, v in row.fields.items() if k not in current}
        if missing:
            contact.fields = {**current, **missing}
            changed.add(contact.id)
    return len(changed)


def _add_tags(
    session: Session, workspace_id: int, rows: Sequence[ImportRow], contact_of: Mapping[int, int]
) -> int:
    wanted = {(contact_of[row.line], tag) for row in rows for tag in row.tags}
    if not wanted:
        return 0
    ids = sorted({contact_id for contact_id, _ in wanted})
    have: set[tuple[int, str]] = set()
    for chunk in _chunks(ids, _lookups(session)):
        have.update(
            (contact_id, name)
            for contact_id, name in session.execute(
                select(ContactTag.contact_id, ContactTag.name).where(
                    _among(session, ContactTag.contact_id, chunk)
                )
            )
        )
    missing = sorted(wanted - have)
    for batch in _chunks(missing, 5000):
        _insert_rows(
            session,
            ContactTag,
            [{"workspace_id": workspace_id, "contact_id": c, "name": n} for c, n in batch],
        )
    return len(missing)


def _opt_in(
    session: Session,
    workspace_id: int,
    rows: Sequence[ImportRow],
    contact_of: Mapping[int, int],
    source: str,
    now: datetime,
    teammate_id: int | None,
) -> tuple[int, int]:
    """Record the file's opt-ins for contacts with no word yet. A contact who opted out
    keeps their opt-out: a list is not the person's own say. Returns (opted in, kept out)."""
    saying_yes = {contact_of[row.line]: row for row in rows if row.opt_in}
    ids = sorted(saying_yes)
    state_of: dict[int, str] = {}
    for chunk in _chunks(ids, _lookups(session)):
        for contact_id, state in session.execute(
            select(ContactConsent.contact_id, ContactConsent.state).where(
                _among(session, ContactConsent.contact_id, chunk)
            )
        ):
            state_of[contact_id] = state
    fresh = [c for c in ids if c not in state_of]
    kept_out = sum(1 for c in ids if state_of.get(c) == ConsentState.OPTED_OUT)
    for chunk in _chunks(fresh, 5000):
        common = {
            "workspace_id": workspace_id,
            "state": ConsentState.OPTED_IN.value,
            "source": ConsentSource.IMPORT.value,
            "by_customer": False,
        }
        _insert_rows(
            session,
            ContactConsent,
            [
                {**common, **_said(saying_yes[c], source), "contact_id": c, "changed_at": at}
                for c, at in ((c, saying_yes[c].opt_in_at or now) for c in chunk)
            ],
        )
        _insert_rows(
            session,
            ConsentEvent,
            [
                {**common, **_said(saying_yes[c], source), "contact_id": c, "at": at}
                | {"teammate_id": teammate_id}
                for c, at in ((c, saying_yes[c].opt_in_at or now) for c in chunk)
            ],
        )
    return len(fresh), kept_out


def _said(row: ImportRow, source: str) -> dict[str, str]:
    """How the person agreed, as the file says, and which file said it."""
    how = f"{row.opt_in_source} (imported from {source})" if row.opt_in_source else None
    return {"detail": (how or f"imported from {source}")[:500]}

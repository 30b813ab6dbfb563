"""Importing a contact list from the browser: the upload is kept as it came, mapped and
previewed as often as needed, and written only when someone confirms it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.contacts.csv_import import (
    ImportPlan,
    ImportResult,
    ImportRow,
    RowError,
    Target,
    apply_import,
    existing_contacts,
    guess_mapping,
    plan_import,
    read_contact_list,
)
from engine.contacts.numbers import region_of
from engine.core.config import CustomField, WorkspaceConfig
from engine.inbox.audit import record
from engine.inbox.errors import InvalidInput, NotFound
from engine.models import ContactImport, ImportState

PREVIEW_ROWS = 50
REGION_HELP = "a two-letter country code such as KE, for numbers written without +country"


def checked_region(region: str | None) -> str | None:
    region = (region or "").strip().upper()
    if not region:
        return None
    if len(region) != 2 or not region.isalpha():
        raise InvalidInput(f"default country: {region!r} is not {REGION_HELP}")
    return region


def upload_contact_list(
    session: Session,
    principal: Principal,
    *,
    filename: str,
    content: bytes,
    default_region: str | None,
    fields: Sequence[CustomField],
    now: datetime,
) -> ContactImport:
    """Keep the uploaded file with a first guess at its mapping; InvalidInput when it is
    not a CSV we can read. The caller commits."""
    require(principal, Action.IMPORT_CONTACTS)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            raise InvalidInput("the file is not text: save the sheet as CSV (UTF-8)") from None
    contact_list = read_contact_list(text)
    upload = ContactImport(
        filename=(filename or "contacts.csv")[-255:],
        content=text,
        mapping=guess_mapping(contact_list.headers, fields),
        default_region=checked_region(default_region),
        state=ImportState.UPLOADED,
        uploaded_by_id=principal.teammate_id,
        uploaded_at=now,
        result={},
    )
    session.add(upload)
    session.flush()
    return upload


def _upload(session: Session, import_id: int) -> ContactImport:
    upload = session.get(ContactImport, import_id)
    if upload is None:
        raise NotFound(f"no contact import {import_id}")
    return upload


@dataclass(frozen=True)
class PreviewRow:
    line: int
    row: ImportRow
    contact_id: int | None  # the contact it merges into; None: a new contact


@dataclass(frozen=True)
class ImportPreview:
    id: int
    filename: str
    state: str
    headers: tuple[str, ...]
    mapping: dict[str, str]
    default_region: str | None
    plan: ImportPlan
    new: int
    merging: int
    sample: tuple[PreviewRow, ...]
    errors: tuple[RowError, ...]
    result: dict[str, object]


def preview_import(
    session: Session,
    principal: Principal,
    import_id: int,
    *,
    fields: Sequence[CustomField],
    now: datetime,
) -> ImportPreview:
    """What confirming would do: each row checked, how many are new and how many merge
    into existing contacts, the first rows and every error. Writes nothing."""
    require(principal, Action.IMPORT_CONTACTS)
    upload = _upload(session, import_id)
    if upload.state == ImportState.IMPORTED:
        # The file itself is gone (it held other people's data); what it did remains.
        empty = ImportPlan(int(upload.result.get("created", 0)), (), (), ())
        return ImportPreview(
            id=upload.id,
            filename=upload.filename,
            state=upload.state,
            headers=tuple(upload.mapping),
            mapping={k: str(v) for k, v in upload.mapping.items()},
            default_region=upload.default_region,
            plan=empty,
            new=0,
            merging=0,
            sample=(),
            errors=(),
            result=dict(upload.result or {}),
        )
    contact_list = read_contact_list(upload.content)
    mapping = {h: str(upload.mapping.get(h, Target.IGNORE)) for h in contact_list.headers}
    plan = plan_import(
        contact_list, mapping, fields=fields, default_region=upload.default_region, now=now
    )
    matched = existing_contacts(session, plan.rows)
    return ImportPreview(
        id=upload.id,
        filename=upload.filename,
        state=upload.state,
        headers=contact_list.headers,
        mapping=mapping,
        default_region=upload.default_region,
        plan=plan,
        new=len(plan.rows) - len(matched),
        merging=len(matched),
        sample=tuple(PreviewRow(r.line, r, matched.get(r.line)) for r in plan.rows[:PREVIEW_ROWS]),
        errors=plan.errors,
        result=dict(upload.result or {}),
    )


def map_columns(
    session: Session,
    principal: Principal,
    import_id: int,
    mapping: Mapping[str, str],
    default_region: str | None,
) -> None:
    """Keep the mapping a person chose (header → target). The caller commits."""
    require(principal, Action.IMPORT_CONTACTS)
    upload = _upload(session, import_id)
    if upload.state != ImportState.UPLOADED:
        raise InvalidInput("this list was imported already; upload it again to import it again")
    headers = read_contact_list(upload.content).headers
    upload.mapping = {h: mapping.get(h, str(upload.mapping.get(h, Target.IGNORE))) for h in headers}
    upload.default_region = checked_region(default_region)


def confirm_import(
    session: Session,
    principal: Principal,
    import_id: int,
    *,
    fields: Sequence[CustomField],
    now: datetime,
) -> ImportResult | dict[str, object]:
    """Write the list as previewed. A second confirm (a double click, a second tab) finds
    it imported and returns what the first one did. The caller commits."""
    require(principal, Action.IMPORT_CONTACTS)
    locked = select(ContactImport).where(ContactImport.id == import_id)
    if session.get_bind().dialect.name == "postgresql":
        locked = locked.with_for_update()
    upload = session.scalars(locked.execution_options(populate_existing=True)).first()
    if upload is None:
        raise NotFound(f"no contact import {import_id}")
    if upload.state == ImportState.IMPORTED:
        return dict(upload.result)
    contact_list = read_contact_list(upload.content)
    plan = plan_import(
        contact_list,
        {h: str(upload.mapping.get(h, Target.IGNORE)) for h in contact_list.headers},
        fields=fields,
        default_region=upload.default_region,
        now=now,
    )
    if not plan.ready:
        raise InvalidInput(
            "; ".join(plan.problems) or "no row of this file can be imported: see the errors"
        )
    result = apply_import(
        session,
        principal.workspace_id,
        plan,
        source=upload.filename,
        now=now,
        teammate_id=principal.teammate_id,
    )
    upload.state = ImportState.IMPORTED
    upload.imported_at = now
    upload.result = result.as_dict()
    # The list is in the contacts now; its copy would outlive any one person's erasure.
    upload.content = ""
    record(
        session,
        principal,
        "import",
        subject_kind="contact_import",
        subject_id=upload.id,
        now=now,
        filename=upload.filename,
        **{k: v for k, v in result.as_dict().items() if k != "errors"},
    )
    return result


def recent_imports(session: Session, principal: Principal, limit: int = 20) -> list[ContactImport]:
    require(principal, Action.IMPORT_CONTACTS)
    return list(
        session.scalars(
            select(ContactImport)
            .options(defer(ContactImport.content))
            .order_by(ContactImport.uploaded_at.desc())
            .limit(limit)
        )
    )


def import_contact_file(
    session: Session,
    workspace_id: int,
    text: str,
    *,
    filename: str,
    fields: Sequence[CustomField],
    default_region: str | None,
    mapping: Mapping[str, str],
    now: datetime,
    write: bool = True,
) -> tuple[ImportPlan, ImportResult | None]:
    """A list imported from a script or the command line in one step: the guessed mapping,
    corrected by `mapping`, checked; written when the mapping has no problem and `write`.
    Audited as Kazi's own action. The caller commits."""
    contact_list = read_contact_list(text)
    unknown = sorted(set(mapping) - set(contact_list.headers))
    if unknown:
        raise InvalidInput(f"the file has no column {', '.join(map(repr, unknown))}")
    chosen = {**guess_mapping(contact_list.headers, fields), **mapping}
    plan = plan_import(
        contact_list, chosen, fields=fields, default_region=checked_region(default_region), now=now
    )
    if not write or not plan.ready:
        return plan, None
    result = apply_import(session, workspace_id, plan, source=filename, now=now)
    session.add(
        ContactImport(
            filename=filename[-255:],
            content="",  # written to the contacts; the file stays where it was
            mapping=chosen,
            default_region=checked_region(default_region),
            state=ImportState.IMPORTED,
            uploaded_at=now,
            imported_at=now,
            result=result.as_dict(),
        )
    )
    return plan, result


def list_settings(config: WorkspaceConfig | None) -> tuple[tuple[CustomField, ...], str | None]:
    """What reading a list needs from the workspace's config: its contact fields, and the
    country of its first WhatsApp number for numbers written without +country."""
    if config is None:
        return (), None
    region = next((region_of(n.phone) for n in config.numbers if n.phone), None)
    return config.fields_of("contact"), region

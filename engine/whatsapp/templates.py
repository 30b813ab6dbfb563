"""`kazi templates sync`: Meta's list of the account's templates, against templates.yaml.

Each template Meta lists updates its `template_statuses` row (the same one the template
webhooks keep, reference §6.5), so a template Meta paused, disabled or rejected while no
webhook reached Kazi is refused at send time all the same. The report says which
config templates Meta does not have (a send would fail with 132001), which differ from
Meta's (not approved, another category, another body text), and which Meta has that the
config does not use.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectors.whatsapp.client import GRAPH_URL
from connectors.whatsapp.templates import RemoteTemplate, TemplatesUnavailable, fetch_templates
from engine.core.config import Template
from engine.db import unit_of_work
from engine.models import TemplateStatus
from engine.whatsapp.senders import API_URL_VARIABLE
from engine.whatsapp.webhook import workspace_id_for
from engine.workspaces.directory import ConfigDirectory

WABA_SETTING = "business_account_id"

_PLACEHOLDER = re.compile(r"\{\{\s*[^}]*\}\}")


@dataclass
class TemplateSyncReport:
    updated: int = 0  # template_statuses rows written
    missing: list[str] = field(default_factory=list)  # in templates.yaml, not on Meta
    differ: list[str] = field(default_factory=list)  # on both, but not the same
    unused: list[str] = field(default_factory=list)  # on Meta, not in templates.yaml

    @property
    def clean(self) -> bool:
        return not self.missing and not self.differ

    def lines(self) -> list[str]:
        out = [f"{self.updated} template statuses updated from Meta"]
        out += [f"missing on Meta: {line}" for line in self.missing]
        out += [f"differs from Meta: {line}" for line in self.differ]
        out += [f"on Meta, not in templates.yaml: {line}" for line in self.unused]
        if self.clean:
            out.append("every template in templates.yaml is on Meta, approved and the same")
        return out


def sync_templates(
    session: Session,
    configured: tuple[Template, ...] | list[Template],
    remote: list[RemoteTemplate],
    now: datetime,
) -> TemplateSyncReport:
    report = TemplateSyncReport()
    on_meta = {(t.name, t.language): t for t in remote}
    for listed in remote:
        _record(session, listed, now)
        report.updated += 1
    for template in configured:
        key = (template.name, template.language)
        label = f"{template.name} ({template.language})"
        found = on_meta.get(key)
        if found is None:
            report.missing.append(f"{label}: a send would fail with 132001")
            continue
        problems = []
        if found.status != "APPROVED":
            because = f", {found.reason}" if found.reason else ""
            problems.append(f"status {found.status}{because}")
        if found.category and found.category.lower() != template.category.lower():
            problems.append(f"category {found.category} on Meta, {template.category} here")
        if found.body is not None and _shape(found.body) != _shape(template.body):
            problems.append("the body text is not the same")
        if problems:
            report.differ.append(f"{label}: " + "; ".join(problems))
    used = {(t.name, t.language) for t in configured}
    report.unused = sorted(
        f"{t.name} ({t.language}) {t.status}" for t in remote if (t.name, t.language) not in used
    )
    session.flush()
    return report


def _shape(body: str) -> str:
    """A body with every placeholder alike and spacing folded: {{1}} and {{name}} match."""
    return " ".join(_PLACEHOLDER.sub("{{}}", body).split())


def _record(session: Session, template: RemoteTemplate, now: datetime) -> None:
    row = session.scalars(
        select(TemplateStatus).where(
            TemplateStatus.name == template.name, TemplateStatus.language == template.language
        )
    ).first()
    if row is None:
        row = TemplateStatus(name=template.name, language=template.language, updated_at=now)
        session.add(row)
    row.status = template.status
    row.reason = template.reason
    row.category = template.category
    row.quality = template.quality or row.quality
    row.provider_template_id = template.template_id or row.provider_template_id
    row.updated_at = now


class TemplateSyncFailed(Exception):
    """Why the templates could not be read, in words for the admin."""


def sync_workspace_templates(
    db: Engine,
    configs: ConfigDirectory,
    slug: str,
    now: datetime,
    env: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> TemplateSyncReport:
    """Read every WhatsApp Business Account the workspace's integrations name and sync."""
    environment = os.environ if env is None else env
    workspace_id = workspace_id_for(db, slug)
    config = configs.config(slug) if workspace_id is not None else None
    if workspace_id is None or config is None:
        raise TemplateSyncFailed(f"no workspace {slug!r} with a valid config")
    accounts = [
        i for i in config.integrations if i.kind == "whatsapp" and i.settings.get(WABA_SETTING)
    ]
    if not accounts:
        raise TemplateSyncFailed(f"no WhatsApp integration of {slug!r} names a {WABA_SETTING}")
    remote: list[RemoteTemplate] = []
    seen: set[str] = set()
    for integration in accounts:
        waba_id = integration.settings[WABA_SETTING]
        if waba_id in seen:
            continue
        seen.add(waba_id)
        variable = integration.secrets.get("access_token", "")
        token = environment.get(variable, "") if variable else ""
        if not token:
            raise TemplateSyncFailed(f"the WhatsApp access token is not set: set {variable}")
        listed = fetch_templates(
            access_token=token,
            waba_id=waba_id,
            base_url=environment.get(API_URL_VARIABLE) or GRAPH_URL,
            transport=transport,
        )
        if isinstance(listed, TemplatesUnavailable):
            raise TemplateSyncFailed(
                f"Meta's template list for account {waba_id} could not be read: "
                f"{listed.code} {listed.meaning} ({listed.detail})"
            )
        remote += listed
    with unit_of_work(db, workspace_id) as session:
        return sync_templates(session, list(config.templates), remote, now)

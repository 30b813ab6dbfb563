"""The builder's pages through the app: managers preview and apply, agents are refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select

from dsl.edit.folder import folder_version, read_text
from engine.auth.passwords import hash_password
from engine.composition import build_runtime
from engine.core.clock import FrozenClock
from engine.db import system_session, unit_of_work
from engine.models import (
    AuthorKind,
    ConfigVersion,
    Contact,
    Conversation,
    Message,
    Teammate,
    Workspace,
)
from engine.settings import Settings
from engine.workspaces.load import load_folder
from tests.inbox.seed import fast_password_hashing
from ui.app import create_app

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="([0-9a-f]+)"')


class Browser:
    def __init__(self, client: TestClient[Any], slug: str) -> None:
        self.client, self.slug = client, slug

    def csrf(self) -> str:
        token = self.client.cookies.get("kazi_csrf")
        if token is None:
            match = CSRF.search(self.client.get("/login").text)
            assert match
            token = match.group(1)
        return token

    def sign_in(self, handle: str) -> None:
        self.client.get("/login")
        answer = self.client.post(
            "/login",
            data={
                "workspace": self.slug,
                "login": handle,
                "password": PASSWORD,
                "_csrf_token": self.csrf(),
            },
            follow_redirects=False,
        )
        assert answer.status_code in (302, 303), answer.text

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.client.post(path, data=data, headers={"X-CSRFToken": self.csrf()})


@pytest.fixture()
def shop(
    db: Engine, database_url: str, retail_copy: tuple[Path, str], tmp_path: Path, queue_name: str
) -> Iterator[tuple[Browser, Path]]:
    config_dir, slug = retail_copy
    load_folder(db, config_dir / slug, NOW)
    with system_session(db) as session:
        for person in session.scalars(
            select(Teammate)
            .join(Workspace, Workspace.id == Teammate.workspace_id)
            .where(Workspace.slug == slug)
        ):
            person.password_hash = hash_password(PASSWORD)
        session.commit()
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path / "var"),
            "KAZI_CONFIG_DIR": str(config_dir),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    runtime = build_runtime(settings, clock=FrozenClock(NOW))
    with fast_password_hashing(), TestClient(create_app(runtime)) as client:
        yield Browser(client, slug), config_dir / slug


def _active(db: Engine, slug: str) -> str | None:
    with system_session(db) as session:
        return session.scalar(
            select(ConfigVersion.hash)
            .join(Workspace, Workspace.id == ConfigVersion.workspace_id)
            .where(Workspace.slug == slug, ConfigVersion.active.is_(True))
        )


def test_an_agent_is_refused_and_sees_no_builder_link(shop: tuple[Browser, Path]) -> None:
    browser, _ = shop
    browser.sign_in("brian")
    assert browser.client.get("/builder/pipelines").status_code == 403
    assert browser.post("/builder/pipelines/apply", {"pipeline": "sales"}).status_code == 403
    assert 'href="/builder"' not in browser.client.get("/inbox").text


def test_a_manager_adds_a_stage_previews_and_applies_it(
    db: Engine, shop: tuple[Browser, Path]
) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    page = browser.client.get("/builder/pipelines")
    assert page.status_code == 200 and "data-graph" in page.text
    version = VERSION.search(page.text).group(1)  # type: ignore[union-attr]
    form = {
        "version": version,
        "pipeline": "sales",
        "order": "inquiry,quote,payment,fulfilment,delivery,completed,lost",
        "new_name": "returned",
        "new_label": "Returned",
        "new_from": "delivery",
        "move__delivery__completed": "on",
        "move__delivery__fulfilment": "on",
    }
    for source, targets in {
        "inquiry": ["quote", "lost"],
        "quote": ["payment", "inquiry", "lost"],
        "payment": ["fulfilment", "quote", "lost"],
        "fulfilment": ["delivery", "completed"],
    }.items():
        form.update({f"move__{source}__{t}": "on" for t in targets})
    before = read_text(folder / "pipelines.yaml")
    in_force = _active(db, folder.name)
    preview = browser.post("/builder/pipelines/preview", form)
    assert "+      - name: returned" in preview.text
    assert "+      delivery: [completed, fulfilment, returned]" in preview.text
    assert "Scenario tests, before and after" in preview.text
    assert read_text(folder / "pipelines.yaml") == before  # a preview writes nothing
    applied = browser.post("/builder/pipelines/apply", {**form, "message": "Returns"})
    assert "Saved and in force" in applied.text, applied.text
    after = read_text(folder / "pipelines.yaml")
    assert [line for line in after.splitlines() if line not in before.splitlines()] == [
        "      - name: returned",
        "        label: Returned",
        "      delivery: [completed, fulfilment, returned]",
    ]
    assert _active(db, folder.name) not in (None, in_force)


def test_a_change_that_does_not_compile_is_shown_and_not_written(
    shop: tuple[Browser, Path],
) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    text = read_text(folder / "rules" / "sales.kazi")
    broken = text.replace('send template "quote_ready"', 'send template "quote_redy"')
    line = broken.splitlines().index('  send template "quote_redy"') + 1
    form = {"version": folder_version(folder), "file": "rules/sales.kazi", "text": broken}
    preview = browser.post("/builder/rules/preview", form)
    assert "would not compile" in preview.text
    assert f"rules/sales.kazi:{line}:" in preview.text
    applied = browser.post("/builder/rules/apply", form)
    assert "Not saved" in applied.text
    assert read_text(folder / "rules" / "sales.kazi") == text


def test_a_save_over_a_newer_folder_is_refused(shop: tuple[Browser, Path]) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    page = browser.client.get("/builder/workspace")
    version = VERSION.search(page.text).group(1)  # type: ignore[union-attr]
    path = folder / "workspace.yaml"
    path.write_text(read_text(path).replace("currency: KES", "currency: KES  # pulled"), "utf-8")
    applied = browser.post(
        "/builder/workspace/apply", {"version": version, "name": "Duka Bora Ltd"}
    )
    assert "changed since this page was read" in applied.text
    assert "+currency: KES  # pulled" in applied.text
    assert "name: Duka Bora Electronics" in read_text(path)


def test_template_variables_are_checked_as_you_type(shop: tuple[Browser, Path]) -> None:
    browser, _ = shop
    browser.sign_in("wanjiru")
    answer = browser.post(
        "/builder/templates/check",
        {"body": "Hi {{1}}, pay {{3}}", "variables": '{"1": "contact.first_name", "2": "x"}'},
    )
    assert "{{3}} has no variable" in answer.text
    assert "variable 2 is not used" in answer.text
    assert "numbered" in answer.text


def test_integrations_show_secret_names_only(shop: tuple[Browser, Path]) -> None:
    browser, _ = shop
    browser.sign_in("wanjiru")
    page = browser.client.get("/builder/integrations").text
    assert "KAZI_RETAIL_MPESA_PASSKEY" in page and "env:KAZI" not in page


def test_the_rule_check_points_at_line_and_column(shop: tuple[Browser, Path]) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    text = read_text(folder / "rules" / "sales.kazi")
    broken = text.replace("\nend\n", "\nthen\n", 1)
    answer = browser.post("/builder/rules/check", {"file": "rules/sales.kazi", "text": broken})
    assert 'class="diagnostic error"' in answer.text
    assert "rules/sales.kazi:" in answer.text and "^</pre>" in answer.text
    assert read_text(folder / "rules" / "sales.kazi") == text


def test_routing_rules_are_reordered_and_sla_targets_edited_in_place(
    shop: tuple[Browser, Path],
) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    page = browser.client.get("/builder/routing")
    assert page.status_code == 200 and "after hours" in page.text
    before = read_text(folder / "routing.yaml")
    applied = browser.post(
        "/builder/routing/apply",
        {"version": folder_version(folder), "order": "1,0,2,3,4,5", "message": "Repairs first"},
    )
    assert "Saved and in force" in applied.text, applied.text
    after = read_text(folder / "routing.yaml")
    assert sorted(after.splitlines()) == sorted(before.splitlines())
    assert after.index("name: warranty and repairs") < after.index("name: after hours")

    before = read_text(folder / "sla.yaml")
    applied = browser.post(
        "/builder/sla/apply",
        {"version": folder_version(folder), 'f:["policies", 2, "first_response"]': "20m"},
    )
    assert "Saved and in force" in applied.text, applied.text
    changed = [
        (a, b)
        for a, b in zip(
            before.splitlines(), read_text(folder / "sla.yaml").splitlines(), strict=True
        )
        if a != b
    ]
    assert changed == [("    first_response: 30m", "    first_response: 20m")]


def test_a_secret_cannot_be_replaced_by_a_value(shop: tuple[Browser, Path]) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    before = read_text(folder / "integrations.yaml")
    answer = browser.post(
        "/builder/integrations/preview",
        {"version": folder_version(folder), 'f:["integrations", 1, "passkey"]': "hunter2"},
    )
    assert "Nothing changed" in answer.text
    assert read_text(folder / "integrations.yaml") == before


def test_two_managers_race_and_the_second_is_shown_the_firsts_change(
    shop: tuple[Browser, Path],
) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    page = browser.client.get("/builder/workspace").text
    version = VERSION.search(page).group(1)  # type: ignore[union-attr]
    first = browser.post(
        "/builder/workspace/apply", {"version": version, "hours_sunday": "10:00-14:00"}
    )
    assert "Saved and in force" in first.text, first.text
    second = browser.post(
        "/builder/workspace/apply", {"version": version, "timezone": "Africa/Kampala"}
    )
    assert "changed since this page was read" in second.text
    assert (
        "+  sunday: &#34;10:00-14:00&#34;" in second.text or "+  sunday: 10:00-14:00" in second.text
    )
    text = read_text(folder / "workspace.yaml")
    assert "timezone: Africa/Nairobi" in text


def test_a_new_teammate_and_a_deactivation_reach_the_database(
    db: Engine, shop: tuple[Browser, Path]
) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    form = {
        "version": folder_version(folder),
        "handles": "wanjiru,brian,faith,kevin,amina,james",
        "teams": "sales,fulfilment,aftersales",
        "role__wanjiru": "manager",
        "team__wanjiru__sales": "on",
        "role__brian": "agent",
        "team__brian__sales": "on",
        "role__faith": "agent",
        "team__faith__sales": "on",
        "deactivate__kevin": "on",
        "role__amina": "agent",
        "team__amina__aftersales": "on",
        "role__james": "admin",
        "new_handle": "zawadi",
        "new_name": "Zawadi Achieng",
        "new_email": "zawadi@dukabora.co.ke",
        "new_role": "agent",
        "new_team__fulfilment": "on",
    }
    applied = browser.post("/builder/teammates/apply", form)
    assert "Saved and in force" in applied.text, applied.text
    with system_session(db) as session:
        people = {
            t.handle: t.active
            for t in session.scalars(
                select(Teammate)
                .join(Workspace, Workspace.id == Teammate.workspace_id)
                .where(Workspace.slug == folder.name)
            )
        }
    assert people["zawadi"] is True and people["kevin"] is False
    text = read_text(folder / "workspace.yaml")
    assert "    members: [zawadi]\n" in text and "handle: kevin" not in text


def test_a_rule_added_with_the_form_shows_its_text_and_goes_in_force(
    shop: tuple[Browser, Path],
) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    before = read_text(folder / "rules" / "service.kazi")
    form = {
        "version": folder_version(folder),
        "file": "rules/service.kazi",
        "name": "Tag delivered orders",
        "trigger": "stage entered",
        "subject": "completed",
        "action1_kind": "tag",
        "action1_value": "delivered",
    }
    preview = browser.post("/builder/newrule/preview", form)
    assert "+rule &#34;Tag delivered orders&#34;" in preview.text, preview.text
    assert "+when stage entered &#34;completed&#34;" in preview.text
    applied = browser.post("/builder/newrule/apply", form)
    assert "Saved and in force" in applied.text, applied.text
    after = read_text(folder / "rules" / "service.kazi")
    assert after.startswith(before)
    assert after.endswith(
        'rule "Tag delivered orders"\nwhen stage entered "completed"\n'
        'then\n  tag "delivered"\nend\n'
    )


def test_applying_no_change_says_so_and_writes_nothing(shop: tuple[Browser, Path]) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    before = read_text(folder / "workspace.yaml")
    answer = browser.post(
        "/builder/workspace/apply",
        {"version": folder_version(folder), "name": "Duka Bora Electronics"},
    )
    assert "Nothing changed" in answer.text
    assert read_text(folder / "workspace.yaml") == before


def test_the_merged_config_files_have_pages(shop: tuple[Browser, Path]) -> None:
    """ai.yaml, knowledge.yaml, consent.yaml and replies.yaml are parts of the folder
    too: each has a page showing its values, and the nav links them."""
    browser, _ = shop
    browser.sign_in("wanjiru")
    seen = {
        "ai": ("min_confidence", "Price inquiry", "monthly"),
        "knowledge": ("Samsung Galaxy A15", "Westlands", "currency"),
        "consent": ("UNSUBSCRIBE", "SITISHA", "opt_in"),
        "replies": ("/price (sw)", "Bei na stoki"),
    }
    for section, words in seen.items():
        page = browser.client.get(f"/builder/{section}")
        assert page.status_code == 200, section
        assert all(word in page.text for word in words), section
        assert 'href="/builder/ai"' in page.text and ">AI</a>" in page.text
    rules = browser.client.get("/builder/rules").text
    assert "<option>inquiry classified as</option>" in rules
    assert '<option value="warranty">' in rules  # the intents, offered as subjects


def test_an_ai_budget_is_edited_in_place_and_a_clashing_keyword_refused(
    shop: tuple[Browser, Path],
) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    before = read_text(folder / "ai.yaml")
    applied = browser.post(
        "/builder/ai/apply",
        {"version": folder_version(folder), 'f:["budget", "monthly"]': "20"},
    )
    assert "Saved and in force" in applied.text, applied.text
    changed = [
        (a, b)
        for a, b in zip(
            before.splitlines(), read_text(folder / "ai.yaml").splitlines(), strict=True
        )
        if a != b
    ]
    assert changed == [("  monthly: 15", "  monthly: 20")]

    consent = read_text(folder / "consent.yaml")
    refused = browser.post(
        "/builder/consent/apply",
        {"version": folder_version(folder), 'f:["opt_in", "keywords", "en", 0]': "STOP"},
    )
    assert "would not compile" in refused.text and "consent.yaml:" in refused.text
    assert "a word must mean one thing" in refused.text
    assert read_text(folder / "consent.yaml") == consent


def test_renaming_a_quick_reply_takes_the_ai_intents_along(shop: tuple[Browser, Path]) -> None:
    browser, folder = shop
    browser.sign_in("wanjiru")
    ai_before = read_text(folder / "ai.yaml")
    applied = browser.post(
        "/builder/replies/apply",
        {"version": folder_version(folder), 'f:["replies", 4, "shortcut"]': "/deliver"},
    )
    assert "Saved and in force" in applied.text, applied.text
    assert "  - shortcut: /deliver\n" in read_text(folder / "replies.yaml")
    ai_after = read_text(folder / "ai.yaml")
    assert ai_after == ai_before.replace("    reply: /delivery\n", "    reply: /deliver\n")
    assert ai_after != ai_before


def test_the_preview_runs_a_simulation_over_last_weeks_messages(
    shop: tuple[Browser, Path], db: Engine
) -> None:
    browser, folder = shop
    with system_session(db) as session:
        workspace_id = session.scalar(select(Workspace.id).where(Workspace.slug == browser.slug))
    assert workspace_id is not None
    with unit_of_work(db, workspace_id) as session:
        contact = Contact(profile_name="Achieng")
        session.add(contact)
        session.flush()
        conversation = Conversation(
            contact_id=contact.id,
            business_number="+254711502300",
            status="open",
            opened_at=NOW.replace(day=2),
        )
        session.add(conversation)
        session.flush()
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="inbound",
                type="text",
                body="bei ya Samsung A15 ni ngapi?",
                author_kind=AuthorKind.CONTACT,
                author_contact_id=contact.id,
                provider_timestamp=NOW.replace(day=2),
            )
        )
    browser.sign_in("wanjiru")
    text = read_text(folder / "rules" / "sales.kazi").replace(
        '  tag "price-asked"\n', '  tag "price-asked"\n  tag "hot"\n', 1
    )
    form = {"version": folder_version(folder), "file": "rules/sales.kazi", "text": text}
    preview = browser.post("/builder/rules/preview", form)
    assert (
        'hx-post="/builder/rules/simulate"' in preview.text and 'hx-trigger="load"' in preview.text
    )
    played = browser.post("/builder/rules/simulate", form)
    assert played.status_code == 200, played.text
    assert "1 customer message in 1 conversation" in played.text
    assert "<strong>tags hot: 1 instead of 0</strong>" in played.text
    assert "tags price-asked: 1, as now" in played.text
    browser.sign_in("brian")  # an agent
    assert browser.post("/builder/rules/simulate", form).status_code == 403

"""The builder in Chromium: a manager drags a stage, previews the YAML diff (comments
kept) and applies it; the change is in force."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select

from dsl.edit.folder import read_text
from engine.auth.passwords import hash_password
from engine.db import system_session
from engine.models import Teammate, Workspace
from engine.workspaces.load import load_folder
from tests.browser.conftest import Server, running_server

PASSWORD = "builder browser password"
# `KAZI_SCREENSHOTS=docs/screenshots pytest tests/browser/test_builder.py` refreshes the
# README's pictures; a plain test run leaves the tracked files alone.
SCREENSHOTS = os.environ.get("KAZI_SCREENSHOTS")


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=full_page)


@pytest.fixture()
def shop(
    db: Engine,
    database_url: str,
    redis_url: str | None,
    tmp_path: Path,
    repo_root: Path,
) -> Iterator[tuple[Server, Path]]:
    slug = f"retail_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "configs" / slug
    shutil.copytree(repo_root / "configs" / "retail", folder)
    workspace = folder / "workspace.yaml"
    workspace.write_text(read_text(workspace).replace("\nslug: retail\n", f"\nslug: {slug}\n"))
    load_folder(db, folder, datetime.now(UTC))
    with system_session(db) as session:
        for person in session.scalars(
            select(Teammate)
            .join(Workspace, Workspace.id == Teammate.workspace_id)
            .where(Workspace.slug == slug)
        ):
            person.password_hash = hash_password(PASSWORD)
        session.commit()
    world = SimpleNamespace(slug=slug)
    with running_server(world, database_url, redis_url, tmp_path, repo_root) as server:  # type: ignore[arg-type]
        yield server, folder


def test_a_manager_drags_a_stage_and_saves_it(shop: tuple[Server, Path], browser: Browser) -> None:
    server, folder = shop
    page = browser.new_context(viewport={"width": 1280, "height": 2200}).new_page()
    page.goto(f"{server.url}/login?workspace={folder.name}")
    page.fill("input[name=login]", "wanjiru")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/inbox")
    page.click("a[href='/builder']")
    expect(page).to_have_url(f"{server.url}/builder/pipelines")
    sales = page.locator("article.pipeline").first
    expect(sales.locator(".pipeline-diagram svg g.node")).to_have_count(7)  # laid out by dagre

    handle = sales.locator("li[data-stage=lost] .handle")
    target = sales.locator("li[data-stage=quote]")
    start, end = handle.bounding_box(), target.bounding_box()
    assert start is not None and end is not None
    page.mouse.move(start["x"] + 5, start["y"] + 5)
    page.mouse.down()
    for step in range(1, 21):
        y = start["y"] + (end["y"] + 5 - start["y"]) * step / 20
        page.mouse.move(start["x"] + 5, y)
        page.wait_for_timeout(20)
    page.mouse.up()
    expect(sales.locator("input.stage-order")).to_have_value(
        "inquiry,lost,quote,payment,fulfilment,delivery,completed"
    )
    sales.locator("button[type=submit]").click()
    preview = page.locator("#preview")
    expect(preview.locator("h3")).to_have_text("Preview")
    diff = preview.locator("pre.diff").first.inner_text()
    assert "-      - name: lost" in diff and "+      - name: lost" in diff
    assert "# One sale" not in diff  # the comment is untouched, so not in the diff
    screenshot(page, "builder-pipeline-preview.png")
    preview.locator("input[name=message]").fill("Lost right after inquiry")
    preview.locator("button[type=submit]").click()
    expect(preview.locator("h3")).to_have_text("Saved and in force")
    text = read_text(folder / "pipelines.yaml")
    assert text.startswith("# One sale from first message to delivered goods.\n")
    assert text.index("- name: lost") < text.index("- name: quote")


def test_a_broken_rule_shows_its_error_at_its_line_as_you_type(
    shop: tuple[Server, Path], browser: Browser
) -> None:
    server, folder = shop
    page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    page.goto(f"{server.url}/login?workspace={folder.name}")
    page.fill("input[name=login]", "wanjiru")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server.url}/builder/rules?file=rules/sales.kazi")
    editor = page.locator("form.rules-form textarea[name=text]")
    text = editor.input_value()
    broken = text.replace('send template "quote_ready"', 'send template "quote_redy"')
    line = broken.splitlines().index('  send template "quote_redy"') + 1
    editor.fill(broken)
    editor.press("End")  # a keystroke, so the check runs as it would while typing
    error = page.locator("#diagnostics .diagnostic.error").first
    expect(error).to_contain_text(f"rules/sales.kazi:{line}:")
    expect(error).to_contain_text("quote_redy")
    expect(error.locator("pre.source")).to_contain_text(f'{line} |   send template "quote_redy"')
    screenshot(page, "builder-rule-error.png")
    assert read_text(folder / "rules" / "sales.kazi") == text  # checking writes nothing


def test_a_template_previews_like_whatsapp_as_you_type(
    shop: tuple[Server, Path], browser: Browser
) -> None:
    server, folder = shop
    page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    page.goto(f"{server.url}/login?workspace={folder.name}")
    page.fill("input[name=login]", "wanjiru")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server.url}/builder/templates")
    first = page.locator("article.template").first
    body = first.locator("textarea[name=body]")
    body.fill("Hi {{1}}, your quote {{2}} is KES {{3}}. Ref {{4}}")
    expect(first.locator(".wa-bubble .wa-body")).to_have_text(
        "Hi [contact.first_name], your quote [order.items] is KES [order.amount]. Ref {{4}}"
    )
    expect(first.locator(".wa-bubble .wa-header")).to_have_text("Quote [order.reference]")
    expect(first.locator(".checks-out")).to_contain_text("{{4}} has no variable")
    screenshot(page, "builder-template.png", full_page=False)


def test_a_refused_pipeline_marks_the_stage_the_error_is_about(
    shop: tuple[Server, Path], browser: Browser
) -> None:
    server, folder = shop
    page = browser.new_context(viewport={"width": 1280, "height": 2200}).new_page()
    page.goto(f"{server.url}/login?workspace={folder.name}")
    page.fill("input[name=login]", "wanjiru")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server.url}/builder/pipelines")
    before = read_text(folder / "pipelines.yaml")
    sales = page.locator("article.pipeline").first
    # Nothing leads to delivery any more: the compiler refuses an unreachable stage.
    sales.locator("input[name=move__fulfilment__delivery]").uncheck()
    sales.locator("button[type=submit]").click()
    expect(page.locator("#preview h3")).to_have_text("Not saved: the workspace would not compile")
    marked = sales.locator("li.has-error")
    expect(marked).to_have_count(1)
    expect(marked).to_have_attribute("data-stage", "delivery")
    expect(marked.locator(".field-error")).to_contain_text("cannot be reached")
    assert read_text(folder / "pipelines.yaml") == before


def test_a_rule_added_with_the_form_shows_the_text_it_wrote(
    shop: tuple[Server, Path], browser: Browser
) -> None:
    server, folder = shop
    page = browser.new_context(viewport={"width": 1280, "height": 1600}).new_page()
    page.goto(f"{server.url}/login?workspace={folder.name}")
    page.fill("input[name=login]", "wanjiru")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server.url}/builder/rules?file=rules/service.kazi")
    form = page.locator("form.rule-form")
    form.locator("input[name=name]").fill("Tag delivered orders")
    form.locator("select[name=trigger]").select_option("stage entered")
    form.locator("input[name=subject]").fill("completed")
    form.locator("select[name=action1_kind]").select_option("tag")
    form.locator("input[name=action1_value]").fill("delivered")
    form.locator("button[type=submit]").click()
    diff = page.locator("#preview pre.diff").first
    expect(diff).to_contain_text('+rule "Tag delivered orders"')
    expect(diff).to_contain_text('+when stage entered "completed"')
    expect(diff).to_contain_text('+  tag "delivered"')
    # The simulation loads by itself under the diff, before anything is applied.
    expect(page.locator("#preview form.simulation")).to_contain_text(
        re.compile("No customer wrote between|played through the rules in force")
    )
    screenshot(page, "builder-rule-form.png")
    page.locator("#preview button[type=submit]").click()
    expect(page.locator("#preview h3")).to_have_text("Saved and in force")
    assert read_text(folder / "rules" / "service.kazi").endswith('  tag "delivered"\nend\n')

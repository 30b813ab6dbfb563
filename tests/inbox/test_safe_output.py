"""Customer-written text renders inert; every response carries the security headers;
another workspace's ids are simply not found."""

from __future__ import annotations

import re

import pytest

from tests.inbox.seed import make_world
from tests.inbox.web import Web

ATTACKS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '<div hx-get="/logout" hx-trigger="load">boom</div>',
    "{{7*7}}",
    "{% raw %}{{ config }}{% endraw %}",
    '"><svg onload=alert(1)>',
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def assert_inert(html: str) -> None:
    for attack in ATTACKS:
        if "<" in attack:
            assert attack not in html, f"raw customer markup in the page: {attack}"
    assert "<script>alert" not in html
    assert "<svg" not in html and "<img" not in html
    assert 'hx-get="/logout"' not in html
    assert not INLINE_SCRIPT.search(html), "an inline <script> would need a weaker CSP"


def hostile_conversation(web: Web) -> int:
    return web.world.conversation(
        " ".join(ATTACKS), phone="+254700000999", texts=tuple(ATTACKS), owner="agent"
    )


def test_hostile_names_and_messages_are_escaped_in_the_queue(web: Web) -> None:
    hostile_conversation(web)
    web.sign_in("agent")
    page = web.client.get("/inbox?queue=mine").text
    assert_inert(page)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    # The rows holding customer text sit under hx-disable, so htmx ignores anything in them.
    body = page.split("<tbody hx-disable>")[1].split("</tbody>")[0]
    assert "&lt;div hx-get=" in body


def test_hostile_text_is_escaped_and_under_hx_disable_on_the_conversation_page(web: Web) -> None:
    conversation = hostile_conversation(web)
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert_inert(page)
    header = page.split('<header class="thread-head" hx-disable>')[1].split("</header>")[0]
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in header
    timeline = page.split('<ol class="timeline" hx-disable>')[1].split("</ol>")[0]
    assert timeline.count('class="message inbound') == len(ATTACKS)
    # Template syntax typed by a customer is shown as typed, never evaluated.
    assert "{{7*7}}" in timeline and "{% raw %}{{ config }}{% endraw %}" in timeline


def test_a_hostile_note_reply_and_tag_render_inert(web: Web) -> None:
    conversation = web.world.conversation("Plain", owner="agent")
    web.sign_in("agent")
    for attack in ATTACKS:
        web.post(f"/inbox/c/{conversation}/note", {"body": attack})
        web.post(f"/inbox/c/{conversation}/reply", {"body": attack, "confirmed": "1"})
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert_inert(page)
    assert page.count("{{7*7}}") == 2  # the note and the reply, as typed
    assert_inert(web.client.get(f"/inbox?queue=all&q={ATTACKS[0]}").text)


@pytest.mark.parametrize("path", ["/login", "/inbox", "/static/kazi.css", "/nowhere"])
def test_every_response_carries_the_security_headers(web: Web, path: str) -> None:
    web.sign_in("agent")
    response = web.client.get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_htmx_config_turns_off_eval_and_script_tags(web: Web) -> None:
    page = web.client.get("/login").text
    assert '"allowEval": false' in page
    assert '"allowScriptTags": false' in page
    assert '"selfRequestsOnly": true' in page


def test_another_workspaces_conversation_is_404_on_every_page_and_action(web: Web) -> None:
    theirs = make_world(web.world.db).conversation("Not yours")
    web.sign_in("manager")
    for path in (f"/inbox/c/{theirs}", f"/inbox/c/{theirs}/timeline"):
        response = web.client.get(path)
        assert response.status_code == 404, path
        assert "Not yours" not in response.text
    for action, data in (
        ("claim", {}),
        ("reply", {"body": "hi"}),
        ("note", {"body": "hi"}),
        ("status", {"status": "resolved"}),
        ("tags", {"tag": "x"}),
        ("tasks", {"title": "x"}),
        ("assign", {"assignee": ""}),
    ):
        response = web.post(f"/inbox/c/{theirs}/{action}", data)
        assert response.status_code == 404, action
    assert "Not yours" not in web.client.get("/inbox?queue=all&q=yours").text

"""The Contacts area in the web app: add by hand, numbers and consent on the record,
import in the browser (nothing written before confirming), export a segment, and who
may do which."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.db import workspace_session
from engine.models import (
    AuditLog,
    ConsentEvent,
    Contact,
    ContactConsent,
    ContactMerge,
    ContactTag,
    Identity,
)
from tests.inbox.web import Web

LIST = (
    "Name,Phone,Tags,Opt-in,Town\n"
    "Amina Wanjiku,0722 111 222,vip,yes,Nairobi\n"
    "Brian Otieno,+254733000111,,no,kiambu\n"
    "Twin,+254 722 111 222,,,\n"
    "Nobody,12345,,,\n"
)


def contact_count(web: Web) -> int:
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        return session.scalar(select(func.count()).select_from(Contact)) or 0


def test_an_agent_adds_a_contact_with_opt_in_and_the_record_shows_it(web: Web) -> None:
    web.sign_in("agent")
    page = web.client.get("/contacts")
    assert page.status_code == 200 and 'href="/contacts/new"' in page.text
    assert "/contacts/import" not in page.text and "export-segment" not in page.text
    added = web.post(
        "/contacts/new",
        {
            "name": "Amina <b>W</b>",
            "number": "0722 111 222",
            "region": "KE",
            "language": "sw",
            "tags": "vip, Nairobi",
            "fields": "county: nairobi",
            "opt_in": "signed up at the counter",
            "opt_in_at": "2026-11-20T10:00",
        },
    )
    assert added.status_code == 303
    record = web.client.get(added.headers["location"]).text
    assert "+254722111222" in record and "Amina &lt;b&gt;W&lt;/b&gt;" in record
    assert "Opted in" in record and "signed up at the counter" in record
    assert 'value="nairobi, vip"' in record
    twin = web.post("/contacts/new", {"name": "Twin", "number": "+254722111222"})
    assert twin.status_code == 400 and "already belongs to contact" in twin.text
    bad = web.post("/contacts/new", {"name": "X", "number": "12345", "region": "KE"})
    assert bad.status_code == 400 and "not a valid phone number" in bad.text
    assert contact_count(web) == 1


def test_a_corrected_number_keeps_the_old_one_in_the_history(web: Web) -> None:
    web.sign_in("agent")
    added = web.post("/contacts/new", {"name": "Baraka", "number": "+254733000111"})
    path = added.headers["location"]
    contact_id = int(path.rsplit("/", 1)[1])
    assert web.post(f"{path}/numbers", {"number": "0744 555 666"}).status_code == 303
    corrected = web.post(f"{path}/numbers", {"number": "0755 000 111", "replaces": "+254733000111"})
    assert corrected.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        numbers = {
            (i.address, i.is_current)
            for i in session.scalars(select(Identity).where(Identity.contact_id == contact_id))
        }
        changes = session.scalars(
            select(AuditLog.action).where(AuditLog.subject_id == contact_id)
        ).all()
    assert numbers == {
        ("+254733000111", False),
        ("+254744555666", True),
        ("+254755000111", True),
    }
    assert {"create", "add_number", "change_number"} <= set(changes)


def test_consent_recorded_by_hand_is_kept_with_its_history(web: Web) -> None:
    web.sign_in("agent")
    path = web.post("/contacts/new", {"name": "Faith", "number": "+254711000222"}).headers[
        "location"
    ]
    assert "No opt-in recorded" in web.client.get(path).text
    refused = web.post(f"{path}/consent", {"state": "opted_in", "source": ""})
    assert refused.status_code == 400 and "how the customer agreed" in refused.text
    assert (
        web.post(f"{path}/consent", {"state": "opted_in", "source": "by phone"}).status_code == 303
    )
    assert web.post(f"{path}/consent", {"state": "opted_out", "source": "asked"}).status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        history = session.scalars(select(ConsentEvent.state).order_by(ConsentEvent.id)).all()
    assert history == ["opted_in", "opted_out"]


def test_only_managers_import_and_export(web: Web) -> None:
    web.sign_in("agent")
    assert web.client.get("/contacts/import").status_code == 403
    assert web.client.get("/contacts/export?tags=vip").status_code == 403
    refused = web.post("/contacts/import", files={"file": ("c.csv", LIST.encode(), "text/csv")})
    assert refused.status_code == 403


def test_a_manager_imports_a_list_in_the_browser_after_seeing_every_error(web: Web) -> None:
    web.world.conversation("Amina on WhatsApp", phone="+254722111222")
    web.sign_in("manager")
    assert 'href="/contacts/import"' in web.client.get("/contacts").text
    uploaded = web.post(
        "/contacts/import",
        data={"region": "KE"},
        files={"file": ("customers.csv", LIST.encode(), "text/csv")},
    )
    assert uploaded.status_code == 303
    preview_path = uploaded.headers["location"]
    preview = web.client.get(preview_path).text
    assert "unknown field &#39;town&#39;" in preview and "confirm-import" not in preview
    assert contact_count(web) == 1  # uploading wrote no contact
    remapped = web.post(
        f"{preview_path}/mapping",
        {
            "map:Name": "name",
            "map:Phone": "phone",
            "map:Tags": "tags",
            "map:Opt-in": "opt_in",
            "map:Town": "field:county",
            "region": "KE",
        },
    )
    assert remapped.status_code == 303
    preview = web.client.get(preview_path).text
    assert "<strong>1</strong> new contacts" in preview
    assert "<strong>1</strong> merge into contacts you have" in preview
    assert "line 4: +254722111222 is the same number as line 2" in preview
    assert "line 5: bad number" in preview
    assert contact_count(web) == 1  # previewing wrote nothing either
    assert web.post(f"{preview_path}/confirm").status_code == 303
    result = web.client.get(preview_path).text
    assert "<strong>1</strong> new contacts, <strong>1</strong> filled in" in result
    assert "2 rows skipped for errors" in result
    assert contact_count(web) == 2
    assert web.post(f"{preview_path}/confirm").status_code == 303  # a double click
    assert contact_count(web) == 2
    again = web.post(
        "/contacts/import",
        data={"region": "KE"},
        files={"file": ("customers.csv", LIST.replace("Town", "county").encode(), "text/csv")},
    )
    web.post(f"{again.headers['location']}/confirm")
    result = web.client.get(again.headers["location"]).text
    assert "<strong>0</strong> new contacts, <strong>0</strong> filled in" in result
    assert contact_count(web) == 2


def test_a_manager_exports_a_tag_segment_and_the_export_is_audited(web: Web) -> None:
    web.sign_in("manager")
    web.post("/contacts/new", {"name": "=HYPERLINK(1)", "number": "+254722111222", "tags": "vip"})
    web.post("/contacts/new", {"name": "Brian", "number": "+254733000111", "tags": "wholesale"})
    exported = web.client.get("/contacts/export?tags=vip")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0].startswith("name,phone,company,language,tags,opt_in")
    assert lines[1:] == ["'=HYPERLINK(1),+254722111222,,,vip,,,"]
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "export")).one()
    assert audit.detail == {"segment": "tag vip", "contacts": 1}


def test_erasing_a_contact_removes_their_tags_and_the_words_of_their_consent(web: Web) -> None:
    web.sign_in("boss")
    path = web.post(
        "/contacts/new",
        {"name": "Zawadi", "number": "+254722999000", "tags": "vip", "opt_in": "told Faith"},
    ).headers["location"]
    assert web.post(f"{path}/erase", {"confirm": "ERASE"}).status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert session.scalars(select(ContactTag)).all() == []
        consent = session.scalars(select(ContactConsent)).one()
        assert (consent.state, consent.detail) == ("opted_in", None)
        assert session.scalars(select(ConsentEvent.detail)).all() == [None]


def test_a_merge_brings_tags_and_consent_to_the_survivor_and_undo_takes_them_back(
    web: Web,
) -> None:
    web.sign_in("manager")
    survivor = web.post(
        "/contacts/new", {"name": "Amina", "number": "+254722111222", "tags": "vip"}
    ).headers["location"]
    merged = web.post(
        "/contacts/new",
        {"name": "Amina 2", "number": "+254733000111", "tags": "vip, wholesale", "opt_in": "web"},
    ).headers["location"]
    survivor_id, merged_id = (int(p.rsplit("/", 1)[1]) for p in (survivor, merged))

    def tags_and_consent() -> tuple[dict[int, list[str]], dict[int, str]]:
        with workspace_session(web.world.db, web.world.workspace_id) as session:
            tags: dict[int, list[str]] = {}
            for contact_id, name in session.execute(
                select(ContactTag.contact_id, ContactTag.name).order_by(ContactTag.name)
            ):
                tags.setdefault(contact_id, []).append(name)
            consents = {
                contact_id: state
                for contact_id, state in session.execute(
                    select(ContactConsent.contact_id, ContactConsent.state)
                )
            }
        return tags, consents

    assert web.post(f"{survivor}/merge", {"merged_id": str(merged_id)}).status_code == 303
    tags, consents = tags_and_consent()
    assert tags == {survivor_id: ["vip", "wholesale"], merged_id: ["vip"]}
    assert consents == {survivor_id: "opted_in"}
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        merge_id = session.scalars(select(ContactMerge.id)).one()
    assert web.post(f"{survivor}/merges/{merge_id}/undo").status_code == 303
    tags, consents = tags_and_consent()
    assert tags == {survivor_id: ["vip"], merged_id: ["vip", "wholesale"]}
    assert consents == {merged_id: "opted_in"}

"""Importing a contact list: rows checked before anything is written, duplicates merged
into the people Kazi already knows (in every WhatsApp form of their number), and the
same file run twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.contacts import (
    ConsentSource,
    apply_import,
    guess_mapping,
    plan_import,
    read_contact_list,
    record_consent,
)
from engine.core.config import CustomField, FieldType
from engine.db import workspace_session
from engine.inbox.errors import InvalidInput
from engine.models import (
    ConsentEvent,
    ConsentState,
    Contact,
    ContactConsent,
    ContactTag,
    Identity,
)
from tests.inbox.seed import NOW, World

FIELDS = (
    CustomField("contact", "county", FieldType.CHOICE, ("nairobi", "kiambu", "mombasa")),
    CustomField("contact", "first_purchase_at", FieldType.DATE),
)

LIST = """Name,Phone,Company,Language,Tags,Opt-in,Opt-in date,County
Amina Wanjiku,0722 111 222,Duka Ltd,sw,"vip, nairobi",yes,2025-03-01,Nairobi
Brian Otieno,+254 733 000 111,,en,wholesale,no,,kiambu
Carlos Ruiz,+52 55 1234 5678,,es,mexico,yes,,
"""


def plan(text: str, mapping: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    contact_list = read_contact_list(text)
    return plan_import(
        contact_list,
        mapping or guess_mapping(contact_list.headers, FIELDS),
        fields=FIELDS,
        default_region="KE",
        now=NOW,
    )


def run(world: World, text: str):  # type: ignore[no-untyped-def]
    with workspace_session(world.db, world.workspace_id) as session:
        result = apply_import(
            session, world.workspace_id, plan(text), source="customers.csv", now=NOW
        )
        session.commit()
    return result


def counts(world: World) -> tuple[int, int, int, int]:
    with workspace_session(world.db, world.workspace_id) as session:
        return (
            session.scalar(select(func.count()).select_from(Contact)) or 0,
            session.scalar(select(func.count()).select_from(Identity)) or 0,
            session.scalar(select(func.count()).select_from(ContactTag)) or 0,
            session.scalar(select(func.count()).select_from(ConsentEvent)) or 0,
        )


def test_the_mapping_is_guessed_from_the_header() -> None:
    headers = read_contact_list(LIST).headers
    assert guess_mapping(headers, FIELDS) == {
        "Name": "name",
        "Phone": "phone",
        "Company": "company",
        "Language": "language",
        "Tags": "tags",
        "Opt-in": "opt_in",
        "Opt-in date": "opt_in_at",
        "County": "field:county",
    }


def test_a_list_becomes_contacts_with_numbers_tags_and_opt_in(world: World) -> None:
    result = run(world, LIST)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert (result.tags_added, result.opted_in, result.errors) == (4, 2, ())
    with workspace_session(world.db, world.workspace_id) as session:
        amina = session.scalars(select(Contact).where(Contact.name == "Amina Wanjiku")).one()
        assert [i.address for i in amina.identities] == ["+254722111222"]
        assert amina.language == "sw" and amina.company is not None
        assert amina.company.name == "Duka Ltd" and amina.fields == {"county": "nairobi"}
        consent = session.scalars(
            select(ContactConsent).where(ContactConsent.contact_id == amina.id)
        ).one()
        assert consent.state == ConsentState.OPTED_IN and consent.source == ConsentSource.IMPORT
        assert consent.changed_at == datetime(2025, 3, 1, tzinfo=UTC)
        assert consent.detail == "imported from customers.csv"
        brian = session.scalars(select(Contact).where(Contact.name == "Brian Otieno")).one()
        assert (
            session.scalars(
                select(ContactConsent).where(ContactConsent.contact_id == brian.id)
            ).first()
            is None
        )  # "no" records nothing: no opt-in


def test_the_same_file_twice_changes_nothing(world: World) -> None:
    run(world, LIST)
    before = counts(world)
    again = run(world, LIST)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (again.tags_added, again.opted_in) == (0, 0)
    assert counts(world) == before == (3, 3, 4, 2)


def test_a_customer_who_wrote_first_is_merged_not_doubled_in_every_number_form(
    world: World,
) -> None:
    mexican = world.conversation("Carlos", phone="+5215512345678")  # WhatsApp's 52 1 form
    brazilian = world.conversation("Joana", phone="+551187654321")  # without the ninth digit
    text = (
        "name,phone,tags,opt_in\n"
        "Carlos Ruiz,+52 55 1234 5678,mexico,yes\n"
        "Joana Silva,+55 11 98765 4321,brazil,yes\n"
    )
    result = run(world, text)
    assert (result.created, result.updated, result.tags_added) == (0, 2, 2)
    with workspace_session(world.db, world.workspace_id) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 2
        for conversation, tag, name in (
            (mexican, "mexico", "Carlos Ruiz"),
            (brazilian, "brazil", "Joana Silva"),
        ):
            contact = session.scalars(
                select(Contact)
                .join(Contact.conversations)
                .where(Contact.conversations.any(id=conversation))
            ).one()
            assert contact.name == name and contact.profile_name is not None
            assert session.scalars(
                select(ContactTag.name).where(ContactTag.contact_id == contact.id)
            ).all() == [tag]


def test_an_import_fills_in_but_never_overwrites_what_staff_wrote(world: World) -> None:
    run(world, "name,phone,language\nAmina,0722111222,sw\n")
    result = run(world, "name,phone,language,county\nAmina W.,0722111222,en,kiambu\n")
    assert (result.created, result.updated) == (0, 1)
    with workspace_session(world.db, world.workspace_id) as session:
        amina = session.scalars(select(Contact)).one()
        assert (amina.name, amina.language, amina.fields) == ("Amina", "sw", {"county": "kiambu"})


def test_row_errors_are_found_before_anything_is_written(world: World) -> None:
    text = (
        "name,phone,county,opt_in\n"
        "Good,0722111222,nairobi,yes\n"
        "Bad number,12345,,\n"
        "Twin,+254 722 111 222,,\n"
        "No number,,,\n"
        "Wrong county,0733000111,paris,\n"
        "Unsure,0733000112,,maybe\n"
        "Mexico old form,+5215512345678,,\n"
        "Mexico new form,+525512345678,,\n"
    )
    checked = plan(text)
    assert [row.line for row in checked.rows] == [2, 8]
    errors = {e.line: e.message for e in checked.errors}
    assert set(errors) == {3, 4, 5, 6, 7, 9}
    assert errors[3].startswith("bad number") and "line 2" in errors[4]
    assert errors[5] == "no phone number" and "paris" in errors[6]
    assert "yes or no" in errors[7] and "line 8" in errors[9]
    assert counts(world) == (0, 0, 0, 0)  # planning reads and writes nothing
    result = run(world, text)
    assert result.created == 2 and len(result.errors) == 6


def test_an_unknown_field_stops_the_import_until_it_is_mapped() -> None:
    checked = plan("name,phone,Town\nAmina,0722111222,Nairobi\n")
    assert not checked.ready and "unknown field 'town'" in checked.problems[0]
    fixed = plan(
        "name,phone,Town\nAmina,0722111222,Nairobi\n",
        {"name": "name", "phone": "phone", "Town": "field:county"},
    )
    assert fixed.ready and fixed.rows[0].fields == {"county": "nairobi"}
    assert "map one column to the phone number" in plan("name\nAmina\n").problems[0]
    with pytest.raises(InvalidInput, match="header"):
        read_contact_list("name,,phone\n")


def test_a_list_never_opts_back_in_a_customer_who_said_stop(world: World) -> None:
    run(world, "name,phone\nAmina,0722111222\n")
    with workspace_session(world.db, world.workspace_id) as session:
        contact_id = session.scalars(select(Contact.id)).one()
        record_consent(
            session,
            contact_id,
            ConsentState.OPTED_OUT,
            source=ConsentSource.KEYWORD,
            detail="STOP",
            by_customer=True,
            now=NOW,
        )
        session.commit()
    result = run(world, "name,phone,opt_in\nAmina,0722111222,yes\n")
    assert (result.opted_in, result.kept_opted_out) == (0, 1)
    with workspace_session(world.db, world.workspace_id) as session:
        state = session.scalars(select(ContactConsent.state)).one()
    assert state == ConsentState.OPTED_OUT
